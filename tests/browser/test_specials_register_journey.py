"""A pharmacist reads the specials register for a period and downloads the inspection export, in
headless Chromium (issue 16, item 5); the page's screenshot is docs/screenshots/specials-register.png."""

from __future__ import annotations

import pytest

from access_programme.models import Prescription
from registry.models import Role
from tests.access_programme.test_specials_register import adverse_event, supply
from tests.browser.journeys import account, shot
from tests.factories import BatchFactory, IdentityFactory, SiteFactory, days_ago, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_pharmacist_reads_the_specials_register_for_a_period_and_downloads_it(page, live_server, sign_in):
    london, sheffield = SiteFactory.create(code="GB-LON"), SiteFactory.create(code="GB-SHF")
    account("chloe", Role.PHARMACIST, london)
    batch = BatchFactory.create(batch_number="SPX-2026-031", supplier="Synthetic Specials Ltd")
    for number, (given, family) in enumerate((("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"))):
        patient = treated_patient(london)
        IdentityFactory(patient=patient, given_name=given, family_name=family, nhs_number="")
        on = days_ago(40 - 7 * number)
        order = Prescription.objects.create(
            patient=patient,
            cycle_number=1,
            prescribed_on=on,
            prescriber="Dr Rees GMC 1234567",
            unsolicited_request=True,
        )
        supply(patient, batch, on, prescription=order)
    adverse_event(patient, days_ago(25), "Injection site reaction")
    supply(treated_patient(sheffield), BatchFactory.create(batch_number="SPX-SHF-77"), days_ago(20))

    sign_in(page, "chloe")
    page.goto(f"{live_server.url}/pharmacy/")
    page.get_by_role("link", name="Specials register").click()
    page.get_by_label("From").fill(days_ago(60).isoformat())
    page.get_by_label("To").fill(days_ago(0).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    table = page.locator("main table")
    assert table.get_by_text("Grace Hopper").is_visible() and table.get_by_text("Injection site reaction").is_visible()
    assert table.get_by_text("SPX-2026-031").count() == 3 and page.get_by_text("SPX-SHF-77").count() == 0
    assert page.get_by_role("status").inner_text().startswith("3 supplies from")
    shot(page, "specials-register")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()  # noqa: SIM115 - read once
    assert lines[0].startswith("dispensed_on,study_id,patient_name") and len(lines) == 4
