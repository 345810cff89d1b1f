"""Registering patients, and the records that belong to the patient itself: identity,
diagnosis and consent."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from registry.follow_up import follow_up_changed
from registry.models import (
    CHANGE_REASON_MAX_LENGTH,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    Patient,
    PatientIdentity,
    Site,
    User,
)
from registry.roles import Area
from registry.services.audit import audited_save, authorise_write, record_update


@transaction.atomic
def study_id_allocate(site: Site) -> str:
    """Next pseudonymous id for a site, under a row lock so two enrolments never share one."""
    locked = Site.objects.select_for_update().get(pk=site.pk)
    number = locked.next_patient_number
    locked.next_patient_number = number + 1
    locked.save(update_fields=["next_patient_number"])
    return f"{locked.code}-{number:04d}"


@transaction.atomic
def study_ids_reserve(*, patients: Sequence[Patient]) -> None:
    """Keep `study_id_allocate` from ever handing out the ids of patients written in bulk.

    Ids of the site's form (`<site code>-<n>`) move the site's next number past them, under
    `FOR NO KEY UPDATE` in site order: it does not wait for (or deadlock with) the key-share
    locks that another import worker's patient inserts hold on the same site.
    """
    highest: dict[int, int] = {}
    for patient in patients:
        match = re.fullmatch(rf"{re.escape(patient.site.code)}-(\d+)", patient.study_id)
        if match:
            highest[patient.site_id] = max(highest.get(patient.site_id, 0), int(match.group(1)))
    for site in Site.objects.select_for_update(no_key=True).filter(pk__in=highest).order_by("pk"):
        if site.next_patient_number <= highest[site.pk]:
            site.next_patient_number = highest[site.pk] + 1
            site.save(update_fields=["next_patient_number"])


@transaction.atomic
def patient_register(
    *,
    actor: User | None,
    site: Site,
    sex: str,
    year_of_birth: int,
    diagnosis: dict[str, Any],
    consent: dict[str, Any],
    identity: dict[str, Any] | None = None,
    study_id: str | None = None,
) -> Patient:
    """Register a patient with baseline, consent and (optionally) identity, all or nothing."""
    authorise_write(actor, Area.CLINICAL)
    if actor is not None and actor.is_site_scoped and not actor.sites.filter(pk=site.pk).exists():
        raise PermissionDenied("You can register patients only at your own sites.")
    patient = Patient(site=site, sex=sex, year_of_birth=year_of_birth, study_id=study_id or study_id_allocate(site))
    audited_save(patient, actor=actor)
    if identity:
        audited_save(PatientIdentity(patient=patient, **identity), actor=actor)
    audited_save(Diagnosis(patient=patient, **diagnosis), actor=actor)
    audited_save(Consent(patient=patient, **consent), actor=actor)
    return patient


def identity_record(*, actor: User | None, patient: Patient, **fields: Any) -> PatientIdentity:
    """Record a patient's direct identifiers (encrypted at rest) where registration had none."""
    authorise_write(actor, Area.CLINICAL, patient)
    return audited_save(PatientIdentity(patient=patient, **fields), actor=actor)


def consent_record(*, actor: User | None, patient: Patient, **fields: Any) -> Consent:
    """Record a further consent (a new form version signed)."""
    authorise_write(actor, Area.CLINICAL, patient)
    return audited_save(Consent(patient=patient, **fields), actor=actor)


def patient_update(
    *, actor: User | None, record: Patient, reason: str, expected_version: int | None, **changes: Any
) -> Patient:
    """Correct a patient's pseudonymous record (sex, year of birth)."""
    return record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)


def identity_update(
    *, actor: User | None, record: PatientIdentity, reason: str, expected_version: int | None, **changes: Any
) -> PatientIdentity:
    return record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)


def diagnosis_update(
    *, actor: User | None, record: Diagnosis, reason: str, expected_version: int | None, **changes: Any
) -> Diagnosis:
    return record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)


def consent_update(
    *, actor: User | None, record: Consent, reason: str, expected_version: int | None, **changes: Any
) -> Consent:
    return record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)


@transaction.atomic
def consent_withdraw(
    *,
    actor: User | None,
    patient: Patient,
    level: str,
    effective_on: dt.date | None,
    reason: str,
    corrects: ConsentWithdrawal | None = None,
) -> ConsentWithdrawal:
    """Record a withdrawal of consent at a level from a date, by `actor`; the one way a
    withdrawal is written (web form, API, admin). Levels only escalate; a withdrawal entered in
    error is never changed: a new record `corrects` it, with the reason (and the right level
    and date, or none). The patient's row is locked so two withdrawals are checked in turn."""
    authorise_write(actor, Area.CLINICAL, patient)
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True))
    record = ConsentWithdrawal(
        patient=patient,
        level=level or "",
        effective_on=effective_on,
        reason=(reason or "").strip(),
        recorded_by=actor,
        corrects=corrects,
    )
    what = f"Correction of withdrawal {corrects.pk}" if corrects is not None else "Consent withdrawn"
    audited_save(record, actor=actor, reason=f"{what}: {record.reason}"[:CHANGE_REASON_MAX_LENGTH])
    follow_up_changed([patient.pk])  # a withdrawal in force ends follow-up; a correction may resume it
    return record
