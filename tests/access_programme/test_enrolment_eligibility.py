"""MIROCALS eligibility is checked and recorded; unmet criteria need a justification, not a refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from access_programme.eligibility import EligibilityInput, unmet_mirocals_criteria
from access_programme.models import Route
from access_programme.services import enrolment_record
from tests.factories import DiagnosisFactory, IdentityFactory, PatientFactory, days_ago

pytestmark = pytest.mark.requirement("CLN-02")

ELIGIBLE = EligibilityInput(
    enrolment_date=dt.date(2026, 1, 10),
    age_years=60,
    symptom_onset_date=dt.date(2025, 1, 10),
    svc_percent=Decimal(85),
    el_escorial="probable",
    riluzole_start_date=dt.date(2025, 10, 1),
)


def codes(data: EligibilityInput) -> list[str]:
    return [c.code for c in unmet_mirocals_criteria(data)]


def test_a_patient_like_the_trials_meets_every_criterion():
    assert codes(ELIGIBLE) == []


@pytest.mark.parametrize(("age", "met"), [(17, False), (18, True), (75, True), (76, False)])
def test_age_must_be_18_to_under_76(age, met):
    assert (codes(EligibilityInput(**{**ELIGIBLE.__dict__, "age_years": age})) == []) is met


def test_symptom_duration_over_24_months_is_unmet():
    data = EligibilityInput(**{**ELIGIBLE.__dict__, "symptom_onset_date": dt.date(2023, 12, 1)})
    assert codes(data) == ["symptom_duration"]


@pytest.mark.parametrize(("svc", "met"), [(Decimal("69.9"), False), (Decimal(70), True)])
def test_svc_must_be_at_least_70_percent(svc, met):
    assert (codes(EligibilityInput(**{**ELIGIBLE.__dict__, "svc_percent": svc})) == []) is met


def test_missing_svc_is_reported_as_unknown_not_as_met():
    assert codes(EligibilityInput(**{**ELIGIBLE.__dict__, "svc_percent": None})) == ["svc_unknown"]


def test_not_on_riluzole_is_unmet():
    assert codes(EligibilityInput(**{**ELIGIBLE.__dict__, "riluzole_start_date": None})) == ["riluzole"]


@pytest.mark.django_db
def test_enrolment_records_unmet_criteria_with_the_justification():
    patient = PatientFactory()
    IdentityFactory(patient=patient)
    DiagnosisFactory(patient=patient, svc_percent=Decimal(62))
    enrolment = enrolment_record(
        actor=None,
        patient=patient,
        route=Route.objects.get(code="managed_access"),
        enrolment_date=days_ago(5),
        eligibility_justification="MDT agreed",
    )
    assert enrolment.meets_mirocals_criteria is False
    assert [c["code"] for c in enrolment.unmet_criteria] == ["svc"]
    assert "62" in enrolment.unmet_criteria[0]["message"]


@pytest.mark.django_db
def test_enrolment_with_unmet_criteria_and_no_justification_is_refused():
    patient = PatientFactory()
    DiagnosisFactory(patient=patient, svc_percent=Decimal(62))
    with pytest.raises(ValidationError) as error:
        enrolment_record(
            actor=None, patient=patient, route=Route.objects.get(code="managed_access"), enrolment_date=days_ago(5)
        )
    assert "justify" in error.value.message_dict["eligibility_justification"][0]


@pytest.mark.django_db
def test_an_untreated_registry_patient_has_no_first_dose():
    patient = PatientFactory()
    IdentityFactory(patient=patient)
    DiagnosisFactory(patient=patient)
    with pytest.raises(ValidationError) as error:
        enrolment_record(
            actor=None,
            patient=patient,
            route=Route.objects.get(code="none"),
            enrolment_date=days_ago(20),
            first_dose_date=days_ago(10),
        )
    assert "first_dose_date" in error.value.message_dict
