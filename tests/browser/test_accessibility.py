"""Accessible forms and tablet-width pages, checked in headless Chromium."""

from __future__ import annotations

import pytest

from registry.models import Role
from tests.browser.test_clinical_journeys import account
from tests.factories import SiteFactory, treated_patient

pytestmark = [
    pytest.mark.requirement("OPS-04"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TABLET = {"width": 768, "height": 1024}  # a 9.7-inch tablet held upright

#: Every form control a person fills in must have an accessible name (a <label for>, or ARIA).
UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('main input, main select, main textarea')]
    .filter(el => !['hidden', 'submit', 'button'].includes(el.type))
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby'))
    .map(el => el.name)"""


@pytest.fixture
def clinician_and_patient(sign_in, page):
    london = SiteFactory(code="GB-LON")
    account("alice", Role.CLINICIAN, london)
    patient = treated_patient(site=london)
    sign_in(page, "alice")
    return patient


@pytest.mark.parametrize(
    "path",
    [
        "/patients/",
        "/patients/{study_id}/",
        "/patients/enrol/",
        "/patients/{study_id}/alsfrsr/new/",
        "/patients/{study_id}/adverse-events/new/",
    ],
)
def test_a_clinicians_page_fits_a_tablet_screen_without_sideways_scrolling(
    page, live_server, clinician_and_patient, path
):
    page.set_viewport_size(TABLET)
    page.goto(live_server.url + path.format(study_id=clinician_and_patient.study_id))
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than a 768px screen"


@pytest.mark.parametrize(
    "path",
    [
        "/patients/enrol/",
        "/patients/{study_id}/alsfrsr/new/",
        "/patients/{study_id}/biomarkers/new/",
        "/patients/{study_id}/adverse-events/new/",
        "/patients/{study_id}/events/new/",
    ],
)
def test_every_field_of_a_form_has_a_label(page, live_server, clinician_and_patient, path):
    page.goto(live_server.url + path.format(study_id=clinician_and_patient.study_id))
    assert page.evaluate(UNLABELLED_CONTROLS) == []


def test_a_refused_field_is_marked_invalid_and_points_to_its_error(page, live_server, clinician_and_patient):
    page.goto(f"{live_server.url}/patients/{clinician_and_patient.study_id}/biomarkers/new/")
    page.get_by_label("Sample date").fill("")
    with page.expect_navigation():
        page.locator("main form button.primary").click()
    field = page.get_by_label("Sample date")
    assert field.get_attribute("aria-invalid") == "true"
    error_ids = (field.get_attribute("aria-describedby") or "").split()
    errors = " ".join(page.locator(f"[id='{error_id}']").inner_text() for error_id in error_ids)
    assert "This field is required." in errors


def test_the_first_tab_reaches_the_skip_link_and_it_moves_focus_to_the_content(
    page, live_server, clinician_and_patient
):
    page.goto(f"{live_server.url}/patients/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
