"""Each enrolment keeps its next cycle due date, written by the one function every path calls."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from access_programme.models import Enrolment, Route
from access_programme.next_due import next_due_refresh
from access_programme.selectors import dispensing_worklist
from access_programme.services import cycle_start, cycle_update, enrolment_record, enrolment_update
from registry.models import ClinicalEvent, EventType, WithdrawalLevel
from registry.services import (
    alsfrsr_record,
    consent_record,
    consent_withdraw,
    outcome_record,
    outcome_update,
    outcomes_bulk_record,
)
from tests.factories import NORMAL_ALSFRSR_ITEMS, DiagnosisFactory, PatientFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


def next_due(patient):
    return Enrolment.objects.get(patient=patient).next_cycle_due


def test_before_any_cycle_the_next_cycle_is_due_at_the_first_dose(patient):
    assert next_due(patient) == days_ago(84)


def test_starting_a_cycle_moves_the_next_due_date_28_days_after_its_start(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    assert next_due(patient) == days_ago(56)
    cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(50))
    assert next_due(patient) == days_ago(22)


def test_correcting_a_cycle_start_moves_the_next_due_date(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    second = cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(50))
    cycle_update(actor=pharmacist, record=second, reason="date typo", expected_version=None, start_date=days_ago(52))
    assert next_due(patient) == days_ago(24)


def test_a_refused_cycle_leaves_the_next_due_date_as_it_was(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    with pytest.raises(ValidationError):
        cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(70))
    assert next_due(patient) == days_ago(56)


def test_enrolling_and_correcting_the_first_dose_sets_the_date(pharmacist):
    patient = PatientFactory(site=pharmacist.sites.get())
    DiagnosisFactory(patient=patient)
    route = Route.objects.get(code="nhs_specials")
    enrolment = enrolment_record(
        actor=None, patient=patient, route=route, enrolment_date=days_ago(30), first_dose_date=days_ago(20)
    )
    assert next_due(patient) == days_ago(20)
    enrolment_update(actor=None, record=enrolment, reason="typo", expected_version=None, first_dose_date=days_ago(21))
    assert next_due(patient) == days_ago(21)


def test_registry_only_patients_have_no_next_cycle(pharmacist):
    patient = PatientFactory(site=pharmacist.sites.get())
    DiagnosisFactory(patient=patient)
    route = Route.objects.get(code="none")
    enrolment_record(actor=None, patient=patient, route=route, enrolment_date=days_ago(30))
    assert next_due(patient) is None


def test_the_refresh_writes_no_history_row(patient, pharmacist):
    enrolment = Enrolment.objects.get(patient=patient)
    before = enrolment.history.count()
    next_due_refresh([patient.pk])
    assert enrolment.history.count() == before


# --- out of follow-up: no next due date, so off the worklist (issue 18, item 3) -------------


def withdraw(patient, level: str, **more):
    if not patient.consents.exists():
        consent_record(actor=None, patient=patient, form_version="v1", consent_date=days_ago(90))
    return consent_withdraw(
        actor=None, patient=patient, level=level, effective_on=days_ago(5), reason="Patient's wish", **more
    )


def on_worklist(pharmacist, patient) -> bool:
    found = dispensing_worklist(pharmacist, today=timezone.localdate(), per_page=100)
    return patient.pk in found.page.object_list


def test_the_enrolment_keeps_the_patients_site(patient, pharmacist):
    assert Enrolment.objects.get(patient=patient).site == pharmacist.sites.get() == patient.site


def test_a_patient_who_dies_leaves_the_worklist(patient, pharmacist):
    assert on_worklist(pharmacist, patient)
    outcome_record(actor=None, patient=patient, event_type=EventType.DEATH, event_date=days_ago(1))
    assert next_due(patient) is None and not on_worklist(pharmacist, patient)


@pytest.mark.parametrize("event_type", [EventType.WITHDRAWAL, EventType.LOST_TO_FOLLOW_UP])
def test_a_withdrawal_or_loss_to_follow_up_removes_the_patient_from_the_worklist(patient, pharmacist, event_type):
    outcome_record(actor=None, patient=patient, event_type=event_type, event_date=days_ago(1))
    assert next_due(patient) is None and not on_worklist(pharmacist, patient)


def test_an_event_corrected_to_another_type_brings_the_next_due_date_back(patient, pharmacist):
    event = outcome_record(actor=None, patient=patient, event_type=EventType.LOST_TO_FOLLOW_UP, event_date=days_ago(1))
    outcome_update(
        actor=None, record=event, reason="error", expected_version=None, event_type=EventType.LAST_KNOWN_ALIVE
    )
    assert next_due(patient) == days_ago(84) and on_worklist(pharmacist, patient)


def test_events_recorded_in_bulk_take_a_patient_whose_follow_up_ended_off_the_worklist(patient, pharmacist):
    other = treated_patient(site=pharmacist.sites.get())
    events = [
        ClinicalEvent(patient=patient, event_type=EventType.DEATH, event_date=days_ago(1)),
        ClinicalEvent(patient=other, event_type=EventType.GASTROSTOMY, event_date=days_ago(1)),
    ]
    outcomes_bulk_record(actor=None, events=events, reason="import events.csv")
    assert next_due(patient) is None and not on_worklist(pharmacist, patient)
    assert next_due(other) == days_ago(84)


def test_an_event_that_does_not_end_follow_up_leaves_the_date_alone(patient, pharmacist):
    outcome_record(actor=None, patient=patient, event_type=EventType.GASTROSTOMY, event_date=days_ago(1))
    assert next_due(patient) == days_ago(84)


def test_a_withdrawal_of_treatment_removes_the_patient_from_the_worklist_and_its_correction_restores_it(
    patient, pharmacist
):
    wrong = withdraw(patient, WithdrawalLevel.TREATMENT_ONLY)
    assert next_due(patient) is None and not on_worklist(pharmacist, patient)
    withdraw(patient, "", corrects=wrong)  # entered in error: no withdrawal in force any more
    assert next_due(patient) == days_ago(84) and on_worklist(pharmacist, patient)


def test_a_cycle_started_before_a_death_does_not_bring_the_date_back(patient, pharmacist):
    outcome_record(actor=None, patient=patient, event_type=EventType.DEATH, event_date=days_ago(1))
    next_due_refresh([patient.pk])  # as cycle_start and enrolment_update do
    assert next_due(patient) is None


def test_the_refresh_of_every_enrolment_applies_the_whole_rule(patient, pharmacist):
    """What the migration runs: rows written before the rule (here by the ORM) come out right."""
    ClinicalEvent.objects.create(patient=patient, event_type=EventType.DEATH, event_date=days_ago(1))
    Enrolment.objects.filter(patient=patient).update(site=None)
    next_due_refresh()
    enrolment = Enrolment.objects.get(patient=patient)
    assert (enrolment.next_cycle_due, enrolment.site) == (None, patient.site)


# --- one patient's refresh (compiled once per process) and many patients' agree ----------------

DUE_FIELDS = ("next_cycle_due", "next_alsfrsr_due", "site_id")


def patients_in_every_follow_up_state(pharmacist) -> list[int]:
    """Treated with a cycle and an assessment, treated without, dead, withdrawn, registry-only."""
    site = pharmacist.sites.get()
    cycled, fresh, dead, withdrawn = (treated_patient(site=site) for _ in range(4))
    cycle_start(actor=pharmacist, patient=cycled, cycle_number=1, start_date=days_ago(84))
    alsfrsr_record(actor=None, patient=cycled, assessment_date=days_ago(80), **NORMAL_ALSFRSR_ITEMS)
    outcome_record(actor=None, patient=dead, event_type=EventType.DEATH, event_date=days_ago(2))
    withdraw(withdrawn, WithdrawalLevel.TREATMENT_ONLY)
    untreated = PatientFactory.create(site=site)
    DiagnosisFactory(patient=untreated)
    enrolment_record(actor=None, patient=untreated, route=Route.objects.get(code="none"), enrolment_date=days_ago(30))
    return [p.pk for p in (cycled, fresh, dead, withdrawn, untreated)]


def scrambled(patient_ids: list[int]) -> None:
    """Every kept date and site wrong, as if written before the rule."""
    Enrolment.objects.filter(patient_id__in=patient_ids).update(
        next_cycle_due=days_ago(999), next_alsfrsr_due=days_ago(999), site=None
    )


def kept(patient_ids: list[int]) -> dict[int, tuple]:
    enrolments = Enrolment.objects.filter(patient_id__in=patient_ids).values("patient_id", *DUE_FIELDS)
    return {e["patient_id"]: tuple(e[f] for f in DUE_FIELDS) for e in enrolments}


def test_refreshing_patients_one_at_a_time_gives_what_refreshing_them_together_gives(pharmacist):
    ids = patients_in_every_follow_up_state(pharmacist)
    expected = kept(ids)
    scrambled(ids)
    for patient_id in ids:
        next_due_refresh([patient_id])
    one_by_one = kept(ids)
    scrambled(ids)
    next_due_refresh(ids)

    assert one_by_one == kept(ids) == expected
    cycled, fresh, dead, withdrawn, untreated = ids
    next_cycles = {pk: due[0] for pk, due in expected.items()}
    assert next_cycles == {cycled: days_ago(56), fresh: days_ago(84), dead: None, withdrawn: None, untreated: None}


def test_one_patients_refresh_leaves_the_other_enrolments_alone(pharmacist):
    ids = patients_in_every_follow_up_state(pharmacist)
    scrambled(ids)

    assert next_due_refresh([ids[0]]) == 1
    assert [kept(ids)[pk] for pk in ids[1:]] == [(days_ago(999), days_ago(999), None)] * (len(ids) - 1)
