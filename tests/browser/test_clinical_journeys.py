"""What clinicians and pharmacists do every day, done in a real browser (headless Chromium)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from access_programme.models import Dispensing, Product
from registry.models import AlsfrsrAssessment, Diagnosis, Patient, Role, User
from tests.browser.conftest import PASSWORD, sign_in, submit
from tests.factories import BatchFactory, SiteFactory, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TODAY = timezone.localdate()


def user(username: str, role: str, *sites) -> User:  # type: ignore[no-untyped-def]
    account = User.objects.create_user(username=username, password=PASSWORD, role=role, first_name=username.title())
    account.sites.set(sites)
    return account


def errors(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".error, [role=alert], .errorlist").all_inner_texts()


def iso(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def test_a_clinician_enrols_a_patient_and_records_an_alsfrs_r(page, live_server):
    london = SiteFactory(code="GB-LON")
    user("alice", Role.CLINICIAN, london)
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/patients/enrol/")
    page.check("input[name=sex][value=female]")
    page.fill("input[name=year_of_birth]", str(TODAY.year - 58))
    page.fill("input[name=given_name]", "Margaret")
    page.fill("input[name=family_name]", "Browsertest")
    page.fill("input[name=date_of_birth]", f"{TODAY.year - 58}-03-14")
    page.fill("input[name=consent_date]", iso(3))
    page.check("input[name=consents_to_registry]")
    page.fill("input[name=symptom_onset_date]", iso(400))
    page.select_option("select[name=onset_region]", "lower_limb")
    page.fill("input[name=diagnosis_date]", iso(120))
    page.select_option("select[name=el_escorial]", "probable")
    page.fill("input[name=riluzole_start_date]", iso(100))
    page.fill("input[name=svc_percent]", "62")
    page.check(f"input[name=route][value='{Product.objects.get(code='proleukin_specials').route_id}']")
    page.fill("input[name=enrolment_date]", iso(3))
    submit(page)
    # SVC 62 % misses a MIROCALS criterion: the clinician must justify, nothing is saved yet.
    assert page.locator("li[data-code=svc]").inner_text().startswith("SVC 62"), page.locator(".error").all_inner_texts()
    assert Patient.objects.count() == 0
    page.fill("textarea[name=eligibility_justification]", "MDT agreed: benefit expected despite SVC")
    submit(page)
    assert Patient.objects.count() == 1, errors(page)
    patient = Patient.objects.get()
    assert patient.study_id == "GB-LON-0001"
    assert patient.enrolment.unmet_criteria[0]["code"] == "svc"

    page.goto(f"{live_server.url}/patients/{patient.study_id}/alsfrsr/new/")
    page.fill("input[name=assessment_date]", TODAY.isoformat())
    page.check("input[name=gastrostomy][value=no]")
    for name in ("q1_speech", "q2_salivation", "q3_swallowing", "q4_handwriting", "q5a_cutting_without_gastrostomy",
                 "q6_dressing_hygiene", "q7_turning_in_bed", "q9_climbing_stairs", "q10_dyspnoea",
                 "q11_orthopnoea", "q12_respiratory_insufficiency"):
        page.check(f"input[name={name}][value='4']")
    page.check("input[name=q8_walking][value='2']")
    submit(page)
    assert AlsfrsrAssessment.objects.filter(patient=patient).count() == 1, errors(page)
    assessment = AlsfrsrAssessment.objects.get(patient=patient)
    assert (assessment.total, assessment.gross_motor, assessment.kings_stage) == (46, 10, "1")
    assert page.get_by_text("46").first.is_visible()


def test_a_pharmacist_dispenses_a_cycle_and_stock_goes_down(page, live_server):
    london = SiteFactory(code="GB-LON")
    user("chloe", Role.PHARMACIST, london)
    patient = treated_patient(site=london)
    patient.enrolment.first_dose_date = TODAY - dt.timedelta(days=1)
    patient.enrolment._change_reason = "test set-up"
    patient.enrolment.save()
    batch = BatchFactory(quantity_received=40, quantity_remaining=40)
    sign_in(page, live_server, "chloe")
    page.goto(f"{live_server.url}/pharmacy/")
    assert page.get_by_text(patient.study_id).first.is_visible()
    page.goto(f"{live_server.url}/pharmacy/dispense/{patient.study_id}/")
    page.fill("input[name=cycle_start_date]", patient.enrolment.first_dose_date.isoformat())
    page.fill("input[name=dispensed_on]", TODAY.isoformat())
    page.check(f"input[name=batch][value='{batch.pk}']")
    page.fill("input[name=prescriber]", "Dr A. Consultant (GMC 1234567)")
    page.fill("input[name=reconstituted_at]", f"{TODAY.isoformat()}T09:00")
    page.fill("input[name=beyond_use_at]", f"{(TODAY + dt.timedelta(days=2)).isoformat()}T09:00")
    page.check("input[name=cold_chain_confirmed]")
    submit(page)
    assert Dispensing.objects.filter(patient=patient).count() == 1, errors(page)
    batch.refresh_from_db()
    assert batch.quantity_remaining == 35


def test_a_clinician_of_another_site_cannot_open_the_patient(page, live_server):
    london, sheffield = SiteFactory(code="GB-LON"), SiteFactory(code="GB-SHF")
    user("ben", Role.CLINICIAN, sheffield)
    patient = treated_patient(site=london)
    sign_in(page, live_server, "ben")
    response = page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    assert response.status == 404
    assert patient.study_id not in page.content() or "not found" in page.content().lower()


def test_a_stale_edit_is_refused_and_the_first_edit_kept(browser, live_server):
    london = SiteFactory(code="GB-LON")
    user("alice", Role.CLINICIAN, london)
    user("anna", Role.CLINICIAN, london)
    diagnosis = treated_patient(site=london).diagnosis
    url = f"{live_server.url}/patients/{diagnosis.patient.study_id}/diagnosis/{diagnosis.pk}/edit/"
    first, second = browser.new_context().new_page(), browser.new_context().new_page()
    sign_in(first, live_server, "alice")
    sign_in(second, live_server, "anna")
    first.goto(url)
    second.goto(url)
    first.select_option("select[name=onset_region]", "bulbar")
    first.fill("textarea[name=change_reason]", "Letter from neurologist")
    submit(first)
    second.select_option("select[name=onset_region]", "upper_limb")
    second.fill("textarea[name=change_reason]", "Clinic notes")
    submit(second)
    assert "after you opened it" in second.content()
    assert Diagnosis.objects.get(pk=diagnosis.pk).onset_region == "bulbar"
    assert diagnosis.history.count() == 2


def test_opening_a_patient_page_logs_the_identity_read(page, live_server):
    from registry.models import IdentityAccess
    from tests.factories import IdentityFactory

    london = SiteFactory(code="GB-LON")
    user("alice", Role.CLINICIAN, london)
    patient = treated_patient(site=london)
    IdentityFactory(patient=patient)
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    assert page.get_by_text("Testperson").count() >= 1
    entry = IdentityAccess.objects.get(patient=patient)
    assert entry.user.username == "alice"
