"""The data-management loop in headless Chromium: a query raised, answered and closed; the
data-quality page of a site. Screenshots of each step go to docs/screenshots/."""

from __future__ import annotations

import pytest
from django.utils import timezone

from registry.models import DataQuery, QueryStatus, Role, User
from tests.browser.conftest import PASSWORD
from tests.browser.journeys import account, shot
from tests.factories import SiteFactory, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TODAY = timezone.localdate()


def data_manager(username: str = "dora") -> User:
    return account(username, Role.DATA_MANAGER)


def test_a_query_is_raised_by_the_data_manager_answered_by_the_site_and_closed(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("alice", Role.CLINICIAN, london)
    data_manager()
    patient = treated_patient(site=london)

    sign_in(page, "dora")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    page.get_by_role("link", name="Raise a query").click()
    page.get_by_label("Record").select_option(
        label=next(o for o in page.locator("#id_record option").all_inner_texts() if "Diagnosis" in o)
    )
    page.get_by_label("Field (optional)").fill("svc_percent")
    page.get_by_label("Question for the site").fill("SVC 85 % at diagnosis: sitting or supine?")
    shot(page, "query-raise")
    with page.expect_navigation():
        page.get_by_role("button", name="Raise query").click()
    query = DataQuery.objects.get()
    assert (query.record, query.status) == (patient.diagnosis, QueryStatus.OPEN)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "alice")
    page.get_by_role("link", name="Data quality").click()
    page.get_by_role("link", name="SVC 85 % at diagnosis").click()
    page.get_by_label("Your answer").fill("Sitting, per the lung function report of that day.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send answer").click()
    assert page.get_by_test_id("query-status").inner_text() == "Answered"
    shot(page, "query-answered")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "dora")
    page.goto(f"{live_server.url}/quality/queries/{query.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Close query").click()
    assert page.get_by_test_id("query-status").inner_text() == "Closed"
    shot(page, "query-closed")
    query.refresh_from_db()
    steps = [h.history_change_reason for h in query.history.order_by("history_date")]
    assert steps == ["Raised by hand", "Answered: Sitting, per the lung function report of that day.", "Closed"]


def test_the_data_manager_reopens_an_answer_that_does_not_settle_it(page, live_server, sign_in):
    from registry import services

    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    alice = account("alice", Role.CLINICIAN, london)
    dora = data_manager()
    patient = treated_patient(site=london)
    query = services.data_query_raise(actor=dora, record=patient, message="Year of birth?")
    services.data_query_answer(actor=alice, query=query, answer="Fine")

    sign_in(page, "dora")
    page.goto(f"{live_server.url}/quality/queries/{query.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Re-open query").click()
    assert "Say what is still wrong" in page.locator(".errorlist").first.inner_text()
    page.get_by_label("Reason").fill("Which source did you check?")
    with page.expect_navigation():
        page.get_by_role("button", name="Re-open query").click()
    assert page.get_by_test_id("query-status").inner_text() == "Open"


def test_the_site_data_quality_page_shows_queries_by_age_and_visit_completeness(page, live_server, sign_in):
    from registry import services

    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("alice", Role.CLINICIAN, london)
    dora = data_manager()
    for _ in range(3):
        patient = treated_patient(site=london)
        services.data_query_raise(actor=dora, record=patient, message=f"Check {patient.study_id}")
    sign_in(page, "alice")
    page.get_by_role("link", name="Data quality").click()
    assert page.get_by_test_id("open-by-age").locator("tr").first.inner_text().split() == ["0–7", "days", "3"]
    assert page.get_by_test_id("completeness").is_visible()
    shot(page, "data-quality-site")


def test_an_investigator_signs_a_visit_then_the_casebook_which_a_data_manager_unlocks_with_a_reason(
    page, live_server, sign_in
):
    from registry import services
    from registry.models import Signature
    from tests.factories import NORMAL_ALSFRSR_ITEMS, days_ago

    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("ivan", Role.CLINICIAN, london)
    data_manager()
    patient = treated_patient(site=london)
    services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(30), **NORMAL_ALSFRSR_ITEMS)

    sign_in(page, "ivan")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    page.get_by_role("link", name="Sign visit").click()
    page.get_by_label("Approval: I have reviewed these data").check()
    page.get_by_label("User ID").fill("ivan")
    page.get_by_label("Password").fill("wrong password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign", exact=True).click()
    assert "nothing was signed" in page.locator(".errorlist").first.inner_text()
    page.get_by_label("Approval: I have reviewed these data").check()
    page.get_by_label("User ID").fill("ivan")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign", exact=True).click()
    assert "Visit signed and locked" in page.locator(".messages").inner_text()

    page.get_by_role("link", name="Sign casebook").click()
    assert page.get_by_label("User ID").count() == 0  # later signings of the session: the password only
    page.get_by_label("Approval: I have reviewed these data").check()
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "signature-sign")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign", exact=True).click()
    assert "Casebook signed and locked" in page.locator(".locked-banner").inner_text()
    assert page.get_by_role("link", name="Record ALSFRS-R").count() == 0
    # The visit and the casebook are signed within the same minute: find the casebook's by its text.
    signed = page.get_by_test_id("signature").filter(has_text="Casebook signed electronically by Ivan Tester")
    assert signed.count() == 1 and "Verified" in signed.inner_text()
    shot(page, "signature-locked")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "dora")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    page.get_by_role("link", name="Unlock casebook").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Unlock and invalidate the signature").click()
    assert page.locator(".errorlist").count() > 0  # a reason is required
    page.get_by_label("Reason for unlocking").fill("Late CSF pNFH result to enter")
    with page.expect_navigation():
        page.get_by_role("button", name="Unlock and invalidate the signature").click()
    assert page.locator(".locked-banner").count() == 0
    assert "Late CSF pNFH result to enter" in page.get_by_test_id("signature").last.inner_text()
    shot(page, "signature-unlocked")
    casebook_signature = Signature.objects.get(scope="casebook")
    assert casebook_signature.invalidation_reason == "Late CSF pNFH result to enter"


def test_a_clinician_finds_a_patient_by_nhs_number_and_the_search_is_logged(page, live_server, sign_in):
    from registry.models import IdentitySearch
    from tests.factories import IdentityFactory

    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("alice", Role.CLINICIAN, london)
    patient = treated_patient(site=london)
    IdentityFactory(patient=patient, given_name="Margaret", family_name="Jones")
    sign_in(page, "alice")
    page.get_by_role("link", name="Find a patient").click()
    page.get_by_label("NHS number").fill("943 476 5919")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name=patient.study_id).is_visible()
    shot(page, "identity-search")
    assert IdentitySearch.objects.get().criteria == "nhs_number"
