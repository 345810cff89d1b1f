"""Recording what the clinic measures and observes: ALSFRS-R, biomarkers and outcomes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from registry.models import AlsfrsrAssessment, BiomarkerResult, ClinicalEvent, Patient, User
from registry.roles import Area
from registry.services.audit import audited_save, authorise_write, record_update


def alsfrsr_record(
    *, actor: User | None, patient: Patient, assessment_date: dt.date, **items: int | None
) -> AlsfrsrAssessment:
    """Record an assessment; totals, subscores, stages and ΔFS are derived on save."""
    authorise_write(actor, Area.CLINICAL, patient)
    return audited_save(AlsfrsrAssessment(patient=patient, assessment_date=assessment_date, **items), actor=actor)


def alsfrsr_update(
    *, actor: User | None, record: AlsfrsrAssessment, reason: str, expected_version: int | None, **changes: Any
) -> AlsfrsrAssessment:
    return record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)


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
    return audited_save(result, actor=actor)


def biomarker_update(
    *, actor: User | None, record: BiomarkerResult, reason: str, expected_version: int | None, **changes: Any
) -> BiomarkerResult:
    """Correct a result; a changed reported value or unit is converted again exactly as on entry."""
    return record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)


def outcome_record(
    *, actor: User | None, patient: Patient, event_type: str, event_date: dt.date, detail: str = ""
) -> ClinicalEvent:
    """Record an outcome or milestone: death, tracheostomy, permanent ventilation, gastrostomy, withdrawal…"""
    authorise_write(actor, Area.CLINICAL, patient)
    event = ClinicalEvent(patient=patient, event_type=event_type, event_date=event_date, detail=detail)
    return audited_save(event, actor=actor)


def outcome_update(
    *, actor: User | None, record: ClinicalEvent, reason: str, expected_version: int | None, **changes: Any
) -> ClinicalEvent:
    return record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)
