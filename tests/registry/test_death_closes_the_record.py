"""Death closes the record: nothing dated after it, a fatal adverse event and the death agree on
the day, the death says whether an adverse event caused it, and the loose ends are listed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import AdverseEvent, ClinicalEvent, Patient
from registry.selectors import death_loose_ends, fatal_events_without_death
from tests.factories import NORMAL_ALSFRSR_ITEMS, CycleFactory, PatientFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db

DIED = days_ago(10)


def die(patient: Patient, on: dt.date = DIED, **fields: Any) -> ClinicalEvent:
    return services.outcome_record(actor=None, patient=patient, event_type="death", event_date=on, **fields)


def adverse_event(patient: Patient, **fields: Any) -> AdverseEvent:
    values: dict[str, Any] = {
        "term": "Aspiration pneumonia",
        "onset_date": days_ago(14),
        "ctcae_grade": 3,
        "serious": True,
        "criterion_hospitalisation": True,
        "relatedness": "not_related",
        "outcome": "not_recovered",
    }
    return services.adverse_event_record(actor=None, patient=patient, **{**values, **fields})


def fatal(patient: Patient, ends: dt.date | None = DIED) -> AdverseEvent:
    return adverse_event(
        patient,
        ctcae_grade=5,
        outcome="fatal",
        criterion_death=True,
        resolution_date=ends,
        criterion_hospitalisation=False,
    )


# --- nothing dated after death, on every kind of record ------------------------------------


def test_an_alsfrsr_dated_after_death_is_refused():
    patient = treated_patient()
    die(patient)
    with pytest.raises(ValidationError, match="nothing can be recorded after death"):
        services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(5), **NORMAL_ALSFRSR_ITEMS)


def test_a_biomarker_dated_after_death_is_refused():
    patient = treated_patient()
    die(patient)
    with pytest.raises(ValidationError, match="nothing can be recorded after death"):
        services.biomarker_record(
            actor=None,
            patient=patient,
            sample_date=days_ago(5),
            analyte="csf_pnfh",
            reported_value=Decimal(1800),
            reported_unit="pg/mL",
            assay="Ella",
        )


def test_a_late_entry_dated_before_death_is_accepted():
    patient = treated_patient()
    die(patient)
    assessment = services.alsfrsr_record(
        actor=None, patient=patient, assessment_date=days_ago(12), **NORMAL_ALSFRSR_ITEMS
    )
    assert assessment.pk


# --- a fatal event and the death agree on the day -------------------------------------------


def test_a_fatal_event_after_the_death_must_end_on_the_date_of_death():
    patient = treated_patient()
    die(patient)
    with pytest.raises(ValidationError, match="A fatal event ends on the date of death"):
        fatal(patient, ends=days_ago(11))


def test_a_fatal_event_without_an_end_date_is_given_the_date_of_death():
    patient = treated_patient()
    die(patient)
    with pytest.raises(ValidationError, match="give that as the end date"):
        fatal(patient, ends=None)


def test_a_fatal_event_ending_on_the_date_of_death_is_accepted():
    patient = treated_patient()
    die(patient)
    assert fatal(patient).pk


def test_a_fatal_event_without_a_recorded_death_is_offered_its_death():
    patient = treated_patient()
    event = fatal(patient)
    assert fatal_events_without_death([event], patient.death_date()) == [event]
    die(patient)
    assert fatal_events_without_death([event], patient.death_date()) == []


# --- the death asks whether an adverse event caused it --------------------------------------


def test_a_death_needs_no_adverse_event():
    patient = treated_patient()
    assert die(patient, ae_caused_death="no").ae_caused_death == "no"


def test_a_death_caused_by_a_fatal_event_links_it():
    patient = treated_patient()
    event = fatal(patient)
    death = die(patient, ae_caused_death="yes", caused_by_adverse_event=event)
    assert death.caused_by_adverse_event == event


def test_a_death_caused_by_an_event_that_is_not_fatal_is_refused():
    patient = treated_patient()
    event = adverse_event(patient)
    with pytest.raises(ValidationError, match="make it grade 5 \\(fatal\\) first"):
        die(patient, ae_caused_death="yes", caused_by_adverse_event=event)


def test_a_death_on_another_day_than_its_fatal_event_is_refused():
    patient = treated_patient()
    event = fatal(patient, ends=days_ago(11))
    with pytest.raises(ValidationError, match="record the death on that date"):
        die(patient, ae_caused_death="yes", caused_by_adverse_event=event)


def test_a_death_caused_by_another_patients_event_is_refused():
    event = fatal(treated_patient())
    with pytest.raises(ValidationError, match="another patient's"):
        die(treated_patient(), ae_caused_death="yes", caused_by_adverse_event=event)


def test_yes_without_the_event_is_refused():
    with pytest.raises(ValidationError, match="Choose the adverse event"):
        die(treated_patient(), ae_caused_death="yes")


def test_only_a_death_has_an_adverse_event_as_its_cause():
    patient = treated_patient()
    with pytest.raises(ValidationError, match="Only a death"):
        services.outcome_record(
            actor=None, patient=patient, event_type="niv_start", event_date=days_ago(3), ae_caused_death="no"
        )


# --- loose ends ------------------------------------------------------------------------------


def test_a_living_patient_has_no_loose_ends():
    assert death_loose_ends(treated_patient(), None) == []


def test_an_adverse_event_still_open_at_death_is_a_loose_end():
    patient = treated_patient()
    event = adverse_event(patient)
    die(patient)
    ends = death_loose_ends(patient, DIED)
    assert [(e.kind, e.record_id) for e in ends if e.kind == "adverse_event"] == [("adverse_event", event.pk)]


def test_an_event_recovered_before_death_is_settled():
    patient = treated_patient()
    adverse_event(patient, outcome="recovered", resolution_date=days_ago(12))
    die(patient)
    assert not [e for e in death_loose_ends(patient, DIED) if e.kind == "adverse_event"]


def test_a_cycle_open_at_death_is_a_loose_end():
    patient = treated_patient()
    CycleFactory(patient=patient, cycle_number=1, start_date=days_ago(84))
    CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(56))
    cycle = CycleFactory(
        patient=patient, cycle_number=3, start_date=days_ago(28), days_administered=2, total_dose_miu=Decimal(4)
    )
    die(patient)
    open_cycles = [(e.kind, e.record_id) for e in death_loose_ends(patient, DIED) if e.kind == "cycle"]
    assert open_cycles == [("cycle", cycle.pk)]


def test_no_alsfrsr_in_the_last_interval_before_death_is_a_loose_end():
    patient = treated_patient()
    die(patient)
    assert "final_alsfrsr" in {e.kind for e in death_loose_ends(patient, DIED)}
    services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(11), **NORMAL_ALSFRSR_ITEMS)
    assert "final_alsfrsr" not in {e.kind for e in death_loose_ends(patient, DIED)}


def test_an_untreated_patient_has_no_cycle_loose_end():
    patient = PatientFactory.create()
    die(patient)
    assert "cycle" not in {e.kind for e in death_loose_ends(patient, DIED)}
