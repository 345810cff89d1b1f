"""Writes to clinical data. Every one goes through `audited_save`, which validates, refuses
stale or unexplained edits, and records who changed what and why in the audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from registry import units
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ChangeReasonRequired,
    ClinicalEvent,
    ClinicalRecord,
    Consent,
    Diagnosis,
    Patient,
    PatientIdentity,
    Site,
    User,
)
from registry.roles import Area, may_write
from registry.selectors import patients_visible_to

R = TypeVar("R", bound=ClinicalRecord)


class StaleRecordError(ValidationError):
    """Someone else saved the record after this editor loaded it."""


def check_may_write(user: User | None, area: Area, patient: Patient | None = None) -> None:
    """Refuse writes by roles without the right, or to patients outside the user's sites."""
    if user is None:  # system jobs (seeding, import by command) act without a user
        return
    if not may_write(user, area):
        raise PermissionDenied("Your role may not change this data.")
    if patient is not None and patient.pk and not patients_visible_to(user).filter(pk=patient.pk).exists():
        raise PermissionDenied("This patient is not at one of your sites.")


def audited_save(instance: R, *, user: User | None, reason: str = "", expected_version: int | None = None) -> R:
    """Validate and save a clinical record with its audit entry.

    An update needs a reason. With `expected_version` (the version the editor loaded), a
    record changed by someone else since is refused rather than overwritten.
    """
    is_update = instance.pk is not None and not instance._state.adding
    reason = (reason or "").strip()
    if is_update and not reason:
        raise ChangeReasonRequired("A reason for change is required to edit clinical data.")
    with transaction.atomic():
        if is_update:
            current = type(instance)._default_manager.select_for_update().only("version").get(pk=instance.pk)
            if expected_version is not None and current.version != expected_version:
                raise StaleRecordError(_stale_message(instance))
            instance.version = current.version + 1
        instance.full_clean()
        instance._history_user = user  # type: ignore[attr-defined]
        instance._change_reason = reason or "Created"  # type: ignore[attr-defined]
        instance.save()
    return instance


def _stale_message(instance: ClinicalRecord) -> str:
    latest = instance.history.order_by("-history_date").first()  # type: ignore[attr-defined]
    who = getattr(latest, "history_user", None) if latest else None
    when = f" at {latest.history_date:%H:%M on %d %b %Y}" if latest else ""
    by = f" by {who.get_full_name() or who.username}" if who else ""
    return (
        f"This record was changed{by}{when} after you opened it. Your changes were not saved; "
        "reload the record to see the current version and enter your change again."
    )


def record_update(
    instance: R,
    *,
    user: User | None,
    reason: str,
    expected_version: int | None,
    area: Area = Area.CLINICAL,
    **changes: Any,
) -> R:
    check_may_write(user, area, getattr(instance, "patient", None))
    for field, value in changes.items():
        setattr(instance, field, value)
    return audited_save(instance, user=user, reason=reason, expected_version=expected_version)


@transaction.atomic
def allocate_study_id(site: Site) -> str:
    """Next pseudonymous id for a site, under a row lock so two enrolments never share one."""
    locked = Site.objects.select_for_update().get(pk=site.pk)
    number = locked.next_patient_number
    locked.next_patient_number = number + 1
    locked.save(update_fields=["next_patient_number"])
    return f"{locked.code}-{number:04d}"


@transaction.atomic
def patient_register(
    *,
    user: User | None,
    site: Site,
    sex: str,
    year_of_birth: int,
    diagnosis: dict[str, Any],
    consent: dict[str, Any],
    identity: dict[str, Any] | None = None,
    study_id: str | None = None,
) -> Patient:
    """Register a patient with baseline, consent and (optionally) identity, all or nothing."""
    check_may_write(user, Area.CLINICAL)
    if user is not None and user.is_site_scoped and not user.sites.filter(pk=site.pk).exists():
        raise PermissionDenied("You can register patients only at your own sites.")
    patient = Patient(site=site, sex=sex, year_of_birth=year_of_birth, study_id=study_id or allocate_study_id(site))
    audited_save(patient, user=user)
    if identity:
        audited_save(PatientIdentity(patient=patient, **identity), user=user)
    audited_save(Diagnosis(patient=patient, **diagnosis), user=user)
    audited_save(Consent(patient=patient, **consent), user=user)
    return patient


def alsfrsr_record(
    *, user: User | None, patient: Patient, assessment_date: dt.date, **items: int | None
) -> AlsfrsrAssessment:
    check_may_write(user, Area.CLINICAL, patient)
    return audited_save(AlsfrsrAssessment(patient=patient, assessment_date=assessment_date, **items), user=user)


def biomarker_record(
    *,
    user: User | None,
    patient: Patient,
    sample_date: dt.date,
    analyte: str,
    value: Decimal,
    unit: str,
    assay: str,
    laboratory: str = "",
) -> BiomarkerResult:
    """Record a result, converting it to the analyte's canonical unit (kept with the original)."""
    check_may_write(user, Area.CLINICAL, patient)
    try:
        canonical_value, canonical_unit = units.normalise(analyte, Decimal(value), unit)
    except ValueError as error:
        raise ValidationError({"unit": str(error)}) from error
    result = BiomarkerResult(
        patient=patient,
        sample_date=sample_date,
        analyte=analyte,
        value=canonical_value,
        unit=canonical_unit,
        reported_value=Decimal(value),
        reported_unit=unit,
        assay=assay,
        laboratory=laboratory,
    )
    return audited_save(result, user=user)


def event_record(
    *, user: User | None, patient: Patient, event_type: str, event_date: dt.date, detail: str = ""
) -> ClinicalEvent:
    check_may_write(user, Area.CLINICAL, patient)
    event = ClinicalEvent(patient=patient, event_type=event_type, event_date=event_date, detail=detail)
    return audited_save(event, user=user)


def adverse_event_record(*, user: User | None, patient: Patient, **fields: Any) -> AdverseEvent:
    check_may_write(user, Area.CLINICAL, patient)
    return audited_save(AdverseEvent(patient=patient, **fields), user=user)


def consent_withdraw(
    *, user: User | None, consent: Consent, withdrawn_on: dt.date, scope: str, reason: str, expected_version: int | None
) -> Consent:
    return record_update(
        consent,
        user=user,
        reason=f"Consent withdrawn: {reason}" if reason else "Consent withdrawn",
        expected_version=expected_version,
        withdrawn_on=withdrawn_on,
        withdrawal_scope=scope,
        withdrawal_reason=reason,
    )
