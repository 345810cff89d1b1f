"""The clinicians' and pharmacists' daily work, done in headless Chromium against live_server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from access_programme.models import Batch, Dispensing
from registry.models import AlsfrsrAssessment, Diagnosis, IdentityAccess, Patient, Role, Site, User
from tests.browser.conftest import PASSWORD
from tests.factories import BatchFactory, IdentityFactory, SiteFactory, treated_patient

pytestmark = [
    pytest.mark.requirement("CLN-04"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TODAY = timezone.localdate()


def account(username: str, role: str, *sites: Site) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, first_name=username.title())
    user.sites.set(sites)
    return user


def iso(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def save(page) -> None:
    with page.expect_navigation():
        page.locator("main form button.primary, main form button.danger").first.click()


def test_a_clinician_enrols_a_patient_and_records_an_alsfrs_r(page, live_server, sign_in):
    account("alice", Role.CLINICIAN, SiteFactory(code="GB-LON"))
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/patients/enrol/")
    page.get_by_label("Female").check()
    page.get_by_label("Given name").fill("Margaret")
    page.get_by_label("Family name").fill("Browsertest")
    page.get_by_label("Date of birth").fill(f"{TODAY.year - 58}-03-14")
    page.get_by_label("Consents to collection of clinical data in the registry").check()
    page.get_by_label("Symptom onset date").fill(iso(400))
    page.get_by_label("Diagnosis date").fill(iso(120))
    page.get_by_label("Riluzole start date").fill(iso(100))
    page.get_by_label("SVC (% predicted)").fill("62")
    page.get_by_label("NHS Specials (reconstituted Proleukin)").check()
    # The MIROCALS check runs as the clinician types: SVC below 70 % is listed at once.
    page.locator("#eligibility li[data-code=svc]").wait_for()
    save(page)
    assert Patient.objects.count() == 0
    assert "justify" in page.locator("#id_eligibility_justification_error").inner_text()
    page.get_by_label("Justification for enrolling outside the MIROCALS criteria").fill("MDT: benefit expected")
    save(page)
    assert Patient.objects.count() == 1, page.locator(".errorlist").all_inner_texts()
    patient = Patient.objects.get()
    assert page.url.endswith(f"/patients/{patient.study_id}/")

    page.get_by_role("link", name="Record ALSFRS-R").click()
    page.get_by_label("No gastrostomy: score item 5a").check()
    for radio in page.locator("input[type=radio][value='4']:visible").all():
        radio.check()
    page.locator("input[name=q8_walking][value='2']").check()
    page.locator("[data-testid=alsfrsr-total]", has_text="46").wait_for()  # scored live
    save(page)
    assert AlsfrsrAssessment.objects.count() == 1, page.locator(".errorlist").all_inner_texts()
    assessment = AlsfrsrAssessment.objects.get(patient=patient)
    assert (assessment.total, assessment.gross_motor, assessment.q5b_cutting_with_gastrostomy) == (46, 10, None)
    assert page.locator("svg.chart").is_visible()


def test_a_pharmacist_dispenses_a_cycle_from_the_worklist(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON")
    account("chloe", Role.PHARMACIST, london)
    patient = treated_patient(site=london)
    batch = BatchFactory(quantity_received=40, quantity_remaining=40)
    first = patient.enrolment.first_dose_date
    sign_in(page, "chloe")
    page.goto(f"{live_server.url}/pharmacy/")
    page.get_by_role("link", name=f"Dispense cycle 1 for {patient.study_id}").click()
    # No prescription yet: the prescriber's order, then the clinical check, come first.
    page.get_by_label("Prescribed on").fill(first.isoformat())
    page.get_by_role("textbox", name="Prescriber").fill("Dr A. Consultant (GMC 1234567)")
    page.get_by_label("The prescriber's unsolicited request for this patient (reg. 167) is held").check()
    page.get_by_label("Special need").fill("ALS; no licensed low-dose product")
    save(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Record my clinical check").click()
    page.get_by_label("Cycle start (day 1)").fill(first.isoformat())
    page.get_by_label("Date supplied").fill(first.isoformat())
    page.get_by_label(batch.batch_number, exact=False).check()
    page.get_by_label("Reconstituted at").fill(f"{first.isoformat()}T09:00")
    page.get_by_label("Beyond-use time").fill(f"{(first + dt.timedelta(days=6)).isoformat()}T09:00")
    page.get_by_label("Cold chain confirmed: stored at 2–8 °C throughout").check()
    save(page)
    assert Dispensing.objects.filter(patient=patient, cycle__cycle_number=1).count() == 1, page.content()[-3000:]
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == 35
    assert "Cycle 1 dispensed" in page.locator(".messages").inner_text()


def test_a_clinician_of_another_site_gets_not_found(page, live_server, sign_in):
    london, sheffield = SiteFactory(code="GB-LON"), SiteFactory(code="GB-SHF")
    account("ben", Role.CLINICIAN, sheffield)
    patient = treated_patient(site=london)
    sign_in(page, "ben")
    response = page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    assert response is not None and response.status == 404


def test_a_stale_edit_is_refused_and_the_first_edit_kept(browser, live_server, sign_in, request):
    london = SiteFactory(code="GB-LON")
    account("alice", Role.CLINICIAN, london)
    account("anna", Role.CLINICIAN, london)
    diagnosis = treated_patient(site=london).diagnosis
    url = f"{live_server.url}/patients/{diagnosis.patient.study_id}/diagnosis/{diagnosis.pk}/edit/"
    contexts = [browser.new_context(), browser.new_context()]
    request.addfinalizer(lambda: [context.close() for context in contexts])  # no lingering server threads
    first, second = (context.new_page() for context in contexts)
    sign_in(first, "alice")
    sign_in(second, "anna")
    first.goto(url)
    second.goto(url)
    first.get_by_label("Onset region").select_option("bulbar")
    first.get_by_label("Reason for change").fill("Letter from neurologist")
    save(first)
    second.get_by_label("Onset region").select_option("upper_limb")
    second.get_by_label("Reason for change").fill("Clinic notes")
    save(second)
    assert "Not saved: someone else changed this record" in second.locator(".stale").inner_text()
    assert Diagnosis.objects.get(pk=diagnosis.pk).onset_region == "bulbar"
    reasons = [h.history_change_reason for h in diagnosis.history.order_by("history_id")]
    assert reasons[1:] == ["Letter from neurologist"]


def test_opening_a_patient_page_logs_the_identity_read(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON")
    account("alice", Role.CLINICIAN, london)
    patient = treated_patient(site=london)
    IdentityFactory(patient=patient)
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    assert page.get_by_text("Testperson").count() >= 1
    assert IdentityAccess.objects.get(patient=patient).user.username == "alice"
