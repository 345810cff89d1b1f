"""Each enrolment keeps its next ALSFRS-R due date (91 days after the last assessment, else after
enrolment; none once follow-up has ended), written by the one function every path calls."""

from __future__ import annotations

import pytest

from access_programme.models import Enrolment, Route
from access_programme.next_due import next_due_refresh
from access_programme.services import enrolment_record, enrolment_update
from registry.models import AlsfrsrAssessment, ClinicalEvent, EventType, WithdrawalLevel
from registry.services import alsfrsr_record, alsfrsr_update, consent_record, consent_withdraw, outcome_record
from tests.factories import (
    NORMAL_ALSFRSR_ITEMS,
    DiagnosisFactory,
    PatientFactory,
    SiteFactory,
    days_ago,
    treated_patient,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    """Enrolled 90 days ago, never assessed."""
    return treated_patient(site=SiteFactory(code="GB-LON"))


def next_due(patient):
    return Enrolment.objects.get(patient=patient).next_alsfrsr_due


def assess(patient, days: int) -> AlsfrsrAssessment:
    return alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(days), **NORMAL_ALSFRSR_ITEMS)


def test_a_patient_never_assessed_is_due_91_days_after_enrolment(patient):
    assert next_due(patient) == days_ago(90 - 91)


def test_recording_an_assessment_makes_the_next_due_91_days_after_it(patient):
    assess(patient, 60)
    assert next_due(patient) == days_ago(60 - 91)


def test_an_earlier_assessment_entered_late_leaves_the_date_after_the_latest(patient):
    assess(patient, 30)
    assess(patient, 60)
    assert next_due(patient) == days_ago(30 - 91)


def test_correcting_an_assessment_date_moves_the_next_due_date(patient):
    assessment = assess(patient, 30)
    alsfrsr_update(
        actor=None, record=assessment, reason="date typo", expected_version=None, assessment_date=days_ago(40)
    )
    assert next_due(patient) == days_ago(40 - 91)


def test_correcting_the_enrolment_date_moves_the_date_of_a_patient_never_assessed(patient):
    enrolment = Enrolment.objects.get(patient=patient)
    enrolment_update(actor=None, record=enrolment, reason="typo", expected_version=None, enrolment_date=days_ago(88))
    assert next_due(patient) == days_ago(88 - 91)


def test_registry_only_patients_are_due_an_assessment_too():
    patient = PatientFactory(site=SiteFactory(code="GB-SHF"))
    DiagnosisFactory(patient=patient)
    enrolment_record(actor=None, patient=patient, route=Route.objects.get(code="none"), enrolment_date=days_ago(30))
    assert next_due(patient) == days_ago(30 - 91)


@pytest.mark.parametrize("event_type", [EventType.DEATH, EventType.WITHDRAWAL, EventType.LOST_TO_FOLLOW_UP])
def test_a_patient_whose_follow_up_ended_has_no_assessment_due(patient, event_type):
    outcome_record(actor=None, patient=patient, event_type=event_type, event_date=days_ago(1))
    assert next_due(patient) is None


def test_an_assessment_recorded_after_follow_up_ended_does_not_bring_the_date_back(patient):
    outcome_record(actor=None, patient=patient, event_type=EventType.LOST_TO_FOLLOW_UP, event_date=days_ago(5))
    assess(patient, 10)
    assert next_due(patient) is None


def test_a_withdrawal_of_consent_clears_the_date_and_its_correction_restores_it(patient):
    consent_record(actor=None, patient=patient, form_version="v1", consent_date=days_ago(90))
    wrong = consent_withdraw(
        actor=None,
        patient=patient,
        level=WithdrawalLevel.NO_FURTHER_COLLECTION,
        effective_on=days_ago(5),
        reason="Patient's wish",
    )
    assert next_due(patient) is None
    consent_withdraw(actor=None, patient=patient, level="", effective_on=days_ago(5), reason="Error", corrects=wrong)
    assert next_due(patient) == days_ago(90 - 91)


def test_the_refresh_of_every_enrolment_applies_the_whole_rule(patient):
    """What the migration runs: rows written before the rule (here by the ORM) come out right."""
    AlsfrsrAssessment.objects.create(patient=patient, assessment_date=days_ago(20), **NORMAL_ALSFRSR_ITEMS)
    other = treated_patient(site=patient.site)
    ClinicalEvent.objects.create(patient=other, event_type=EventType.DEATH, event_date=days_ago(1))
    Enrolment.objects.update(next_alsfrsr_due=None)
    next_due_refresh()
    assert (next_due(patient), next_due(other)) == (days_ago(20 - 91), None)
