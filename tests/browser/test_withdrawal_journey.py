"""A consent withdrawal in headless Chromium, as a research nurse would record it: the form says
what each level does and what the law keeps, the patient withdraws from further data collection,
the patient page shows the withdrawal with its date, who recorded it and the reason, and a visit
dated after it is refused. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import pytest

from registry import services
from registry.models import Consent, ConsentWithdrawal, Role
from tests.browser.journeys import account, shot
from tests.factories import NORMAL_ALSFRSR_ITEMS, SiteFactory, days_ago, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_patient_withdrawn_from_data_collection_shows_it_and_later_entry_is_refused(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    nurse = account("rosa", Role.CLINICIAN, london)
    patient = treated_patient(site=london)
    services.audited_save(Consent(patient=patient, form_version="v1.2", consent_date=days_ago(90)), actor=None)
    services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(30), **NORMAL_ALSFRSR_ITEMS)

    sign_in(page, "rosa")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    page.get_by_role("link", name="Consent withdrawal").click()
    levels = page.get_by_test_id("withdrawal-levels").inner_text()
    assert "Kept whatever the level, as the law requires" in levels and "specials records" in levels
    page.get_by_label("No further data collection", exact=False).check()
    page.get_by_label("Date of withdrawal").fill(days_ago(7).isoformat())
    page.get_by_label("Reason for withdrawal").fill("Finds the visits too tiring; treatment records may stay")
    shot(page, "withdrawal-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Record withdrawal").click()

    withdrawal = ConsentWithdrawal.objects.get(patient=patient)
    assert (withdrawal.level, withdrawal.effective_on, withdrawal.recorded_by) == (
        "no_further_collection",
        days_ago(7),
        nurse,
    )
    assert "Consent withdrawal recorded." in page.locator(".messages").inner_text()
    history = page.get_by_test_id("withdrawal-history").inner_text()
    assert "No further data collection" in history and "Rosa Tester" in history and "too tiring" in history
    assert days_ago(7).strftime("%d %b %Y") in history
    shot(page, "withdrawal-patient")

    page.get_by_role("link", name="Record ALSFRS-R", exact=True).click()
    page.get_by_label("Assessment date").fill(days_ago(1).isoformat())
    page.get_by_label("No gastrostomy: score item 5a").check()
    for radio in page.locator("input[type=radio][value='3']:visible").all():
        radio.check()
    with page.expect_navigation():
        page.locator("main form button.primary").first.click()
    assert "withdrew from further data collection on" in page.locator(".errorlist").first.inner_text()
