"""Writes to clinical data. Every one goes through `audited_save`, which validates, refuses
stale or unexplained edits, and records who changed what and why in the audit trail."""

from __future__ import annotations

import datetime as dt
import logging
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
    Role,
    SeriousAdverseEventAlert,
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


# --- web app: adverse-event reporting, serious-AE alerts and result edits -------------------

logger = logging.getLogger(__name__)


def adverse_event_report(*, user: User | None, patient: Patient, **fields: Any) -> AdverseEvent:
    """Record an adverse event; a serious one is flagged to the data managers in the same transaction."""
    with transaction.atomic():
        event = adverse_event_record(user=user, patient=patient, **fields)
        if event.serious:
            sae_alert_raise(event, user=user)
    return event


def adverse_event_update(
    *, user: User | None, adverse_event: AdverseEvent, reason: str, expected_version: int | None, **changes: Any
) -> AdverseEvent:
    """Edit an adverse event; one that becomes serious on review is flagged like a new one."""
    with transaction.atomic():
        event = record_update(adverse_event, user=user, reason=reason, expected_version=expected_version, **changes)
        if event.serious:
            sae_alert_raise(event, user=user)
    return event


def sae_alert_raise(adverse_event: AdverseEvent, *, user: User | None) -> SeriousAdverseEventAlert:
    """Flag a serious AE once, and mail the data managers after the record is committed.

    The mail goes out on commit so that a rolled-back save never alerts anyone, and a mail
    failure never loses the record: the alert stays listed on the data managers' page.
    """
    alert, created = SeriousAdverseEventAlert.objects.get_or_create(
        adverse_event=adverse_event, defaults={"raised_by": user if user and user.pk else None}
    )
    if created:
        transaction.on_commit(lambda: _mail_sae_alert(alert.pk))
    return alert


def sae_alert_recipients() -> list[str]:
    """Active data managers with an address, plus any fixed pharmacovigilance addresses."""
    from django.conf import settings

    managers = User.objects.filter(role=Role.DATA_MANAGER, is_active=True).exclude(email="")
    addresses = list(managers.values_list("email", flat=True))
    addresses += [a for a in getattr(settings, "SAE_ALERT_EMAILS", []) if a not in addresses]
    return addresses


def _mail_sae_alert(alert_pk: int) -> None:
    """Pseudonymised mail: study id and clinical facts only, never the patient's identity."""
    from django.core.mail import send_mail

    alert = SeriousAdverseEventAlert.objects.select_related("adverse_event__patient__site", "raised_by").get(
        pk=alert_pk
    )
    recipients = sae_alert_recipients()
    if not recipients:
        logger.warning("Serious AE alert %s raised but no data manager has an e-mail address.", alert.pk)
        return
    event = alert.adverse_event
    criteria = ", ".join(
        str(AdverseEvent._meta.get_field(f"criterion_{name}").verbose_name) for name in event.seriousness_criteria
    )
    reporter = (alert.raised_by.get_full_name() or alert.raised_by.username) if alert.raised_by else "system"
    body = (
        f"A serious adverse event was recorded for {event.patient.study_id} ({event.patient.site.name}).\n\n"
        f"Term: {event.term}\n"
        f"Onset: {event.onset_date:%d %b %Y}\n"
        f"CTCAE grade: {event.get_ctcae_grade_display()}\n"
        f"Seriousness: {criteria}\n"
        f"Relatedness to IL-2LD: {event.get_relatedness_display()}\n"
        f"Recorded by: {reporter}\n\n"
        "Review it on the registry's serious adverse event page (/alerts/). Suspected reactions to an "
        "unlicensed medicine are reported to the MHRA through the Yellow Card scheme."
    )
    try:
        send_mail(f"Serious adverse event: {event.patient.study_id} – {event.term}", body, None, recipients)
    except Exception:  # the alert page still lists it; a mail outage must not hide a serious AE
        logger.exception("Could not send the e-mail for serious AE alert %s.", alert.pk)


def sae_alert_acknowledge(*, user: User, alert: SeriousAdverseEventAlert) -> SeriousAdverseEventAlert:
    """A data manager takes charge of a serious AE (reporting clocks are then theirs to keep)."""
    from django.utils import timezone

    if not (user.is_superuser or user.role == Role.DATA_MANAGER):
        raise PermissionDenied("Only data managers acknowledge serious adverse events.")
    with transaction.atomic():
        locked = SeriousAdverseEventAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            locked.acknowledged_by = user
            locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return locked


def biomarker_update(
    *,
    user: User | None,
    result: BiomarkerResult,
    reason: str,
    expected_version: int | None,
    sample_date: dt.date,
    analyte: str,
    value: Decimal,
    unit: str,
    assay: str,
    laboratory: str = "",
) -> BiomarkerResult:
    """Correct a result; the value is converted to the canonical unit exactly as on entry."""
    try:
        canonical_value, canonical_unit = units.normalise(analyte, Decimal(value), unit)
    except ValueError as error:
        raise ValidationError({"unit": str(error)}) from error
    return record_update(
        result,
        user=user,
        reason=reason,
        expected_version=expected_version,
        sample_date=sample_date,
        analyte=analyte,
        value=canonical_value,
        unit=canonical_unit,
        reported_value=Decimal(value),
        reported_unit=unit,
        assay=assay,
        laboratory=laboratory,
    )


ENCRYPTED_IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "nhs_number")


@transaction.atomic
def identity_keys_rotate(*, batch_size: int = 1000) -> dict[str, int]:
    """Re-encrypt identities and their audit copies under the newest key.

    Raw column values are re-encrypted token to token (MultiFernet.rotate), so no plaintext is
    handled and the audit trail is not "edited": the same values, under a new key. The database
    guard on audit tables is lifted for this transaction only (registry.audit_guard).
    """
    from django.db import connection

    from registry.audit_guard import allow_audit_rewrite
    from registry.crypto import reencrypt

    counts = {"identities": 0, "history": 0}
    with allow_audit_rewrite(connection, reason="identifier key rotation"):
        for model, key in ((PatientIdentity, "identities"), (PatientIdentity.history.model, "history")):
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            columns = [connection.ops.quote_name(model._meta.get_field(f).column) for f in ENCRYPTED_IDENTITY_FIELDS]
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {', '.join(columns)} FROM {table}")  # noqa: S608 - quoted names
                rows = cursor.fetchall()
                updates = [[*(reencrypt(value) if value else value for value in row[1:]), row[0]] for row in rows]
                assignments = ", ".join(f"{column} = %s" for column in columns)
                for start in range(0, len(updates), batch_size):
                    cursor.executemany(
                        f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608 - quoted names
                        updates[start : start + batch_size],
                    )
            counts[key] = len(rows)
    return counts
