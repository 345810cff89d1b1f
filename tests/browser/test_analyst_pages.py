"""The analysts' pages, the API documentation and the error pages in headless Chromium: WCAG 2.2 AA
by axe-core, no sideways scrolling on a tablet (768 px) or a phone (390 px), an export prepared
in the background and downloaded, and API docs that list the operations under the strict CSP."""

from __future__ import annotations

import pytest

from registry.models import Role
from tests.browser.axe import axe_violations, horizontal_overflow
from tests.browser.test_clinical_journeys import account
from tests.factories import SiteFactory, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
ANALYST_PAGES = ["/analytics/", "/analytics/overview/", "/analytics/dictionary/", "/no-such-page/"]
#: The API documentation pages, checked once their operations are drawn (Swagger UI, ReDoc).
DOCS_PAGES = {"/api/docs/": ".opblock-summary-path", "/api/redoc/": "h2"}


@pytest.fixture
def analyst(sign_in, page):
    london, sheffield = SiteFactory(code="GB-LON"), SiteFactory(code="GB-SHF")
    for site, route in ((london, "nhs_specials"), (london, "managed_access"), (sheffield, "managed_access")):
        treated_patient(site=site, route=route)
    account("ana", Role.ANALYST)
    sign_in(page, "ana")
    return page


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return errors


@pytest.mark.parametrize("path", ANALYST_PAGES)
def test_an_analyst_page_passes_the_axe_wcag_22_aa_check(analyst, live_server, path):
    analyst.goto(live_server.url + path)
    assert axe_violations(analyst) == []


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["768px", "390px"])
@pytest.mark.parametrize("path", ANALYST_PAGES)
def test_an_analyst_page_fits_the_screen_without_sideways_scrolling(analyst, live_server, path, viewport):
    analyst.set_viewport_size(viewport)
    analyst.goto(live_server.url + path)
    assert horizontal_overflow(analyst) <= 0


@pytest.mark.parametrize("path", list(DOCS_PAGES))
def test_an_api_documentation_page_passes_axe_and_fits_a_phone(analyst, live_server, path):
    analyst.goto(live_server.url + path)
    analyst.locator(DOCS_PAGES[path]).first.wait_for()
    assert axe_violations(analyst) == []
    for viewport in (TABLET, PHONE):
        analyst.set_viewport_size(viewport)
        assert horizontal_overflow(analyst) <= 0


def test_the_overview_draws_five_figures_each_with_alt_text(analyst, live_server):
    analyst.goto(f"{live_server.url}/analytics/overview/")
    figures = analyst.get_by_role("img")
    assert figures.count() == 5
    assert figures.first.get_attribute("aria-labelledby") == "enrolment_by_route-title"
    assert "Enrolment over time by route" in analyst.locator("#enrolment_by_route-title").text_content()


def test_an_export_is_prepared_in_the_background_and_offered_for_download(analyst, live_server):
    analyst.goto(f"{live_server.url}/analytics/")
    analyst.get_by_label("Table").select_option("patients")
    analyst.get_by_label("SPSS (.sav)").check()
    with analyst.expect_navigation():
        analyst.get_by_role("button", name="Prepare the export").click()
    link = analyst.get_by_role("link", name="Download patients for SPSS (.sav)")
    with analyst.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith("_sav.zip")
    assert axe_violations(analyst) == []
    for viewport in (TABLET, PHONE):
        analyst.set_viewport_size(viewport)
        assert horizontal_overflow(analyst) <= 0


def test_the_api_docs_list_the_operations_under_the_strict_csp(analyst, live_server):
    csp_errors = _csp_errors(analyst)
    analyst.goto(f"{live_server.url}/api/docs/")
    operations = analyst.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = set(operations.all_text_contents())
    assert {"/api/v1/patients/", "/api/v1/datasets/", "/api/v1/dataset-exports/"} <= {p.strip() for p in paths}
    assert csp_errors == []


def test_redoc_lists_the_operations_with_fonts_served_by_the_registry(analyst, live_server):
    requested: list[str] = []  # requests the browser completed (the CSP stops ReDoc's logo on a CDN)
    analyst.on("requestfinished", lambda request: requested.append(request.url))
    analyst.goto(f"{live_server.url}/api/redoc/")
    analyst.get_by_role("heading", name="patients_list").first.wait_for()
    assert analyst.evaluate("() => document.fonts.check('16px Montserrat') && document.fonts.check('16px Roboto')")
    fonts = [url for url in requested if url.endswith(".woff2")]
    assert fonts and all(url.startswith(live_server.url) for url in fonts)
    assert [url for url in requested if not url.startswith(live_server.url)] == []
