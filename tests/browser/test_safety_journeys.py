"""Safety reporting in headless Chromium, as a clinician and a data manager would do it: a serious
adverse event from awareness to the report sent, with the clock shown; the dashboard of open
and overdue cases. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from registry import services
from registry.models import CaseStatus, Role, SafetyCase
from tests.browser.journeys import account, save, shot
from tests.factories import SiteFactory, days_ago, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_serious_event_goes_from_awareness_to_the_report_sent_with_the_clock_shown(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("alice", Role.CLINICIAN, london)
    patient = treated_patient(site=london, route="managed_access")
    aware = timezone.localtime().replace(second=0, microsecond=0) - dt.timedelta(hours=3)

    sign_in(page, "alice")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/adverse-events/new/")
    page.get_by_label("Term").fill("Pneumonia")
    page.get_by_label("Onset date").fill(days_ago(1).isoformat())
    page.get_by_label("3 – Severe", exact=False).check()
    page.get_by_label("Serious adverse event").check()
    page.get_by_label("Hospitalisation or prolongation").check()
    page.get_by_label("Unlikely").check()
    page.get_by_label("Awareness date and time").fill(aware.strftime("%Y-%m-%dT%H:%M"))
    save(page)

    case = SafetyCase.objects.get(adverse_event__patient=patient)
    assert page.url.endswith(f"/safety/cases/{case.pk}/"), page.locator(".errorlist").all_inner_texts()
    assert "its safety case is open" in page.locator(".messages").inner_text()
    clock = page.get_by_test_id("case-clock").inner_text()
    assert "left" in clock and "24 h from awareness" in clock
    shot(page, "safety-case-clock")

    page.get_by_label("Narrative", exact=True).fill("Admitted on day 3 of cycle 2 with community-acquired pneumonia.")
    page.get_by_label("Reason for change").fill("Narrative written")
    save(page)
    assert "Case assessment saved." in page.locator(".messages").inner_text()

    page.get_by_label("Reference of the report sent").fill("ILT-2026-0042")
    page.get_by_label("The report states that the product is unlicensed").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Record report sent").click()
    assert "Initial report recorded as sent (ILT-2026-0042)" in page.locator(".messages").inner_text()
    assert page.get_by_test_id("report-reference").inner_text() == "ILT-2026-0042"
    assert "Reported" in page.get_by_test_id("case-clock").inner_text()
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORTED
    shot(page, "safety-case-reported")


def test_the_data_manager_sees_open_and_overdue_cases_and_is_notified(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("dora", Role.DATA_MANAGER)
    late = treated_patient(site=london, route="managed_access")
    fresh = treated_patient(site=london, route="nhs_specials")
    for patient, hours in ((late, 30), (fresh, 1)):
        services.adverse_event_record(
            actor=None,
            patient=patient,
            aware_at=timezone.now() - dt.timedelta(hours=hours),
            term="Pneumonia",
            onset_date=days_ago(3),
            ctcae_grade=3,
            serious=True,
            criterion_hospitalisation=True,
            relatedness="unlikely",
        )

    sign_in(page, "dora")
    assert page.get_by_test_id("unread-count").inner_text() == "2"
    page.get_by_role("link", name="Safety reporting").click()
    summary = page.get_by_test_id("safety-summary").inner_text()
    assert "2 open cases" in summary and "1 overdue" in summary
    rows = page.locator("main table tbody tr")
    assert "Overdue by" in rows.nth(0).inner_text() and late.study_id in rows.nth(0).inner_text()
    assert "As soon as possible" in rows.nth(1).inner_text()
    shot(page, "safety-dashboard")
