"""Recording what the clinic measures and observes: ALSFRS-R, biomarkers and outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from registry.follow_up import ENDING_EVENTS, follow_up_changed
from registry.models import AdverseEvent, AlsfrsrAssessment, BiomarkerResult, ClinicalEvent, Patient, User
from registry.roles import Area
from registry.services.audit import audited_save, authorise_write, record_update
from registry.services.bulk import records_bulk_insert
from registry.services.quality import data_quality_check


def alsfrsr_record(
    *, actor: User | None, patient: Patient, assessment_date: dt.date, **items: int | None
) -> AlsfrsrAssessment:
    """Record an assessment; totals, subscores, stages and ΔFS are derived on save."""
    authorise_write(actor, Area.CLINICAL, patient)
    with transaction.atomic():
        assessment = audited_save(
            AlsfrsrAssessment(patient=patient, assessment_date=assessment_date, **items), actor=actor
        )
        data_quality_check(actor=actor, patient=patient, record=assessment)
        follow_up_changed([patient.pk])  # the next assessment is due an interval after the last
    return assessment


def alsfrsr_update(
    *, actor: User | None, record: AlsfrsrAssessment, reason: str, expected_version: int | None, **changes: Any
) -> AlsfrsrAssessment:
    with transaction.atomic():
        record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)
        data_quality_check(actor=actor, patient=record.patient, record=record)
        follow_up_changed([record.patient_id])  # its date may have moved: the last assessment may be another
    return record


def alsfrsr_bulk_record(*, actor: User | None, assessments: Sequence[AlsfrsrAssessment], reason: str) -> None:
    """Record many assessments at once (the import), each with its audit row, then what
    `alsfrsr_record` does: a new assessment moves the next one's due date. The caller has
    authorised the write and derived each assessment's scores (as for `records_bulk_insert`)."""
    with transaction.atomic():
        records_bulk_insert(actor=actor, records=assessments, model=AlsfrsrAssessment, reason=reason)
        follow_up_changed(assessment.patient_id for assessment in assessments)


def biomarker_record(
    *,
    actor: User | None,
    patient: Patient,
    sample_date: dt.date,
    analyte: str,
    reported_value: Decimal,
    reported_unit: str,
    assay: str,
    laboratory: str = "",
) -> BiomarkerResult:
    """Record a result as the laboratory reported it; the model derives the canonical value and unit."""
    authorise_write(actor, Area.CLINICAL, patient)
    result = BiomarkerResult(
        patient=patient,
        sample_date=sample_date,
        analyte=analyte,
        reported_value=reported_value,
        reported_unit=reported_unit,
        assay=assay,
        laboratory=laboratory,
    )
    with transaction.atomic():
        audited_save(result, actor=actor)
        data_quality_check(actor=actor, patient=patient, record=result)
    return result


def biomarker_update(
    *, actor: User | None, record: BiomarkerResult, reason: str, expected_version: int | None, **changes: Any
) -> BiomarkerResult:
    """Correct a result; a changed reported value or unit is converted again exactly as on entry."""
    with transaction.atomic():
        record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)
        data_quality_check(actor=actor, patient=record.patient, record=record)
    return record


def outcome_record(
    *,
    actor: User | None,
    patient: Patient,
    event_type: str,
    event_date: dt.date,
    detail: str = "",
    ae_caused_death: str = "",
    caused_by_adverse_event: AdverseEvent | None = None,
) -> ClinicalEvent:
    """Record an outcome or milestone: death, tracheostomy, permanent ventilation, gastrostomy, withdrawal…

    A death says whether an adverse event caused it, and which (that event fatal, ending that day)."""
    authorise_write(actor, Area.CLINICAL, patient)
    event = ClinicalEvent(
        patient=patient,
        event_type=event_type,
        event_date=event_date,
        detail=detail,
        ae_caused_death=ae_caused_death or "",
        caused_by_adverse_event=caused_by_adverse_event,
    )
    with transaction.atomic():
        audited_save(event, actor=actor)
        if event.event_type in ENDING_EVENTS:
            follow_up_changed([patient.pk])  # a death, withdrawal or loss ends follow-up
    return event


def outcome_update(
    *, actor: User | None, record: ClinicalEvent, reason: str, expected_version: int | None, **changes: Any
) -> ClinicalEvent:
    was = record.event_type
    with transaction.atomic():
        record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)
        if was in ENDING_EVENTS or record.event_type in ENDING_EVENTS:
            follow_up_changed([record.patient_id])  # the event may now end follow-up, or no longer
    return record


def outcomes_bulk_record(*, actor: User | None, events: Sequence[ClinicalEvent], reason: str) -> None:
    """Record many outcomes at once (the import), each with its audit row, then what
    `outcome_record` does after a death, withdrawal or loss to follow-up, for their patients.
    The caller has authorised the write and run each event's rules (as for `records_bulk_insert`)."""
    with transaction.atomic():
        records_bulk_insert(actor=actor, records=events, model=ClinicalEvent, reason=reason)
        follow_up_changed(event.patient_id for event in events if event.event_type in ENDING_EVENTS)
