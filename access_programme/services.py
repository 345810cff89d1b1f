"""Writes for the access programme: enrolment, batches, cycles and dispensing.

Each service takes `actor=`, validates once (the models' rules), writes with its audit row in
one transaction, and emits its consequences on commit. Web pages, the API, the importer and
the admin call these.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from access_programme.eligibility import EligibilityInput, age_in_years, unmet_mirocals_criteria
from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Disposition,
    Enrolment,
    Prescription,
    Product,
    RecallNotice,
    Route,
    TemperatureExcursion,
    TreatmentCycle,
    cycle_findings,
)
from access_programme.next_due import next_due_refresh
from access_programme.recipients import recipients_move
from access_programme.stock import ledger
from registry.constants import DOSING_DAYS_PER_CYCLE, PROTOCOL_DAILY_DOSE_MIU
from registry.models import Diagnosis, Patient, PatientIdentity, Role, Site, User, rules_today
from registry.roles import Area
from registry.services import (
    RecordServices,
    audited_save,
    authorise_write,
    data_queries_raise,
    patient_register,
    record_update,
)
from registry.services.identity import nhs_number_duplicate_screen


def eligibility_input(patient: Patient, enrolment_date: dt.date) -> EligibilityInput:
    """Collect the criteria's inputs from what is recorded (exact age when the birth date is known)."""
    diagnosis = Diagnosis.objects.filter(patient=patient).first()
    identity = PatientIdentity.objects.filter(patient=patient).first()
    if identity is not None and identity.date_of_birth:
        age: int | None = age_in_years(identity.date_of_birth, enrolment_date)
    else:
        # Year of birth only: the age reached by the end of the enrolment year minus one at worst.
        age = enrolment_date.year - patient.year_of_birth - 1 if patient.year_of_birth else None
    return EligibilityInput(
        enrolment_date=enrolment_date,
        age_years=age,
        symptom_onset_date=diagnosis.symptom_onset_date if diagnosis else None,
        svc_percent=diagnosis.svc_percent if diagnosis else None,
        el_escorial=diagnosis.el_escorial if diagnosis else None,
        riluzole_start_date=diagnosis.riluzole_start_date if diagnosis else None,
    )


def enrolment_record(
    *,
    actor: User | None,
    patient: Patient,
    route: Route,
    enrolment_date: dt.date,
    first_dose_date: dt.date | None = None,
    eligibility_justification: str = "",
    treating_clinician: str = "",
) -> Enrolment:
    """Enrol with the MIROCALS check recorded; unmet criteria need a justification, not a refusal."""
    authorise_write(actor, Area.CLINICAL, patient)
    unmet = unmet_mirocals_criteria(eligibility_input(patient, enrolment_date))
    enrolment = Enrolment(
        patient=patient,
        route=route,
        enrolment_date=enrolment_date,
        first_dose_date=first_dose_date,
        treating_clinician=treating_clinician,
        meets_mirocals_criteria=not unmet,
        unmet_criteria=[criterion.as_dict() for criterion in unmet],
        eligibility_justification=eligibility_justification,
    )
    with transaction.atomic():
        audited_save(enrolment, actor=actor)
        next_due_refresh([patient.pk])
    return enrolment


def enrolment_update(
    *, actor: User | None, record: Enrolment, reason: str, expected_version: int | None, **changes: Any
) -> Enrolment:
    """Correct an enrolment; the MIROCALS check is run again on what it now says."""
    for field, value in changes.items():
        setattr(record, field, value)
    unmet = unmet_mirocals_criteria(eligibility_input(record.patient, record.enrolment_date))
    with transaction.atomic():
        record_update(
            record,
            actor=actor,
            reason=reason,
            expected_version=expected_version,
            meets_mirocals_criteria=not unmet,
            unmet_criteria=[criterion.as_dict() for criterion in unmet],
        )
        next_due_refresh([record.patient_id])
    return record


def patient_enrol(*, actor: User | None, identity: dict[str, Any] | None = None, **fields: Any) -> Enrolment:
    """Register and enrol a patient (`_patient_enrol`), after screening the NHS number outside the
    transaction, so a data manager hears of a possible duplicate though the enrolment is refused."""
    nhs_number_duplicate_screen(actor=actor, nhs_number=str((identity or {}).get("nhs_number") or ""))
    return _patient_enrol(actor=actor, identity=identity, **fields)


@transaction.atomic
def _patient_enrol(
    *,
    actor: User | None,
    site: Site,
    sex: str,
    year_of_birth: int,
    diagnosis: dict[str, Any],
    consent: dict[str, Any],
    route: Route,
    enrolment_date: dt.date,
    identity: dict[str, Any] | None = None,
    first_dose_date: dt.date | None = None,
    eligibility_justification: str = "",
    treating_clinician: str = "",
) -> Enrolment:
    """Register and enrol a patient all or nothing: a refused enrolment leaves no half-registered
    patient behind and does not consume a study id."""
    patient = patient_register(
        actor=actor,
        site=site,
        sex=sex,
        year_of_birth=year_of_birth,
        diagnosis=diagnosis,
        consent=consent,
        identity=identity,
    )
    return enrolment_record(
        actor=actor,
        patient=patient,
        route=route,
        enrolment_date=enrolment_date,
        first_dose_date=first_dose_date,
        eligibility_justification=eligibility_justification,
        treating_clinician=treating_clinician,
    )


# --- batches ------------------------------------------------------------------------------


def batch_receive(*, actor: User | None, product: Product, **fields: Any) -> Batch:
    """Register a delivered batch; all of it is in stock until dispensed."""
    authorise_write(actor, Area.PHARMACY)
    fields.setdefault("quantity_remaining", fields.get("quantity_received"))
    return audited_save(Batch(product=product, **fields), actor=actor)


def batch_update(
    *, actor: User | None, record: Batch, reason: str, expected_version: int | None, **changes: Any
) -> Batch:
    """Correct a batch's details (stock and status change only through their own services)."""
    if {"quantity_remaining", "status"} & set(changes):
        raise ValidationError("Stock changes by dispensing and status by quarantine, recall or release.")
    return record_update(
        record, actor=actor, area=Area.PHARMACY, reason=reason, expected_version=expected_version, **changes
    )


def _batch_status_set(
    actor: User | None, batch: Batch, status: BatchStatus, reason: str, expected_version: int | None
) -> Batch:
    """The reason is both the status reason and the audit reason."""
    return record_update(
        batch,
        actor=actor,
        area=Area.PHARMACY,
        reason=f"Batch {status}: {reason}",
        expected_version=expected_version,
        status=status,
        status_reason=reason,
    )


def batch_quarantine(*, actor: User | None, batch: Batch, reason: str, expected_version: int | None = None) -> Batch:
    return _batch_status_set(actor, batch, BatchStatus.QUARANTINED, reason, expected_version)


def batch_recall(*, actor: User | None, batch: Batch, reason: str, expected_version: int | None = None) -> Batch:
    """Recall a batch: every patient who received it is flagged until a clinician acknowledges."""
    with transaction.atomic():
        recalled = _batch_status_set(actor, batch, BatchStatus.RECALLED, reason, expected_version)
        recipients = Dispensing.objects.filter(batch=batch).values_list("patient_id", flat=True).distinct()
        RecallNotice.objects.bulk_create(
            [RecallNotice(batch=batch, patient_id=pid) for pid in recipients], ignore_conflicts=True
        )
    return recalled


def recall_notice_acknowledge(*, actor: User, notice: RecallNotice, note: str) -> RecallNotice:
    """A clinician acknowledges a recall for their patient (contacted, reviewed for reactions)."""
    authorise_write(actor, Area.CLINICAL, notice.patient)
    if actor.role != Role.CLINICIAN and not actor.is_superuser:
        raise PermissionDenied("A clinician acknowledges a recall for their patient.")
    if not note.strip():
        raise ValidationError({"note": "Say what was done (patient contacted, reviewed for adverse reactions)."})
    if notice.acknowledged_at is not None:
        raise ValidationError("This recall is already acknowledged.")
    notice.acknowledged_by = actor
    notice.acknowledged_at = timezone.now()
    notice.note = note
    notice.save(update_fields=["acknowledged_by", "acknowledged_at", "note"])
    return notice


def batch_release(*, actor: User | None, batch: Batch, reason: str, expected_version: int | None = None) -> Batch:
    """Release a quarantined batch for use; the releasing pharmacist and the time are recorded."""
    if batch.status == BatchStatus.RECALLED:
        raise ValidationError({"status": "A recalled batch cannot be released."})
    if actor is not None and actor.role != Role.PHARMACIST and not actor.is_superuser:
        raise PermissionDenied("Only a pharmacist may release a batch.")
    if TemperatureExcursion.objects.filter(batches=batch, disposition=Disposition.PENDING).exists():
        raise ValidationError(
            {"status": "A temperature excursion of this batch is under investigation: decide it first."}
        )
    batch.released_by = actor
    batch.released_at = timezone.now()
    return _batch_status_set(actor, batch, BatchStatus.AVAILABLE, reason, expected_version)


BATCH_STATUS_SERVICES = {
    BatchStatus.QUARANTINED: batch_quarantine,
    BatchStatus.RECALLED: batch_recall,
    BatchStatus.AVAILABLE: batch_release,
}


# --- cycles and dispensing ------------------------------------------------------------------


def cycle_start(
    *,
    actor: User | None,
    patient: Patient,
    cycle_number: int,
    start_date: dt.date,
    days_administered: int = DOSING_DAYS_PER_CYCLE,
    planned_dose_miu: Decimal = PROTOCOL_DAILY_DOSE_MIU,
    total_dose_miu: Decimal | None = None,
    interrupted: bool = False,
    interruption_reason: str = "",
) -> TreatmentCycle:
    """Open (or record) a cycle. Doses missed without a reason raise a query, not a refusal."""
    authorise_write(actor, Area.PHARMACY, patient)
    cycle = TreatmentCycle(
        patient=patient,
        cycle_number=cycle_number,
        start_date=start_date,
        planned_dose_miu=planned_dose_miu,
        days_administered=days_administered,
        total_dose_miu=planned_dose_miu * days_administered if total_dose_miu is None else total_dose_miu,
        interrupted=interrupted,
        interruption_reason=interruption_reason,
    )
    with transaction.atomic():
        audited_save(cycle, actor=actor)
        next_due_refresh([patient.pk])
        data_queries_raise(actor=actor, findings=[(cycle, cycle_findings(cycle, today=rules_today()))])
    return cycle


def cycle_update(
    *, actor: User | None, record: TreatmentCycle, reason: str, expected_version: int | None, **changes: Any
) -> TreatmentCycle:
    """Correct a record (days given, interruption); a new finding raises a query."""
    with transaction.atomic():
        record_update(
            record, actor=actor, area=Area.PHARMACY, reason=reason, expected_version=expected_version, **changes
        )
        next_due_refresh([record.patient_id])
        data_queries_raise(actor=actor, findings=[(record, cycle_findings(record, today=rules_today()))])
    return record


def dispensing_record(*, actor: User | None, cycle: TreatmentCycle, batch: Batch, **fields: Any) -> Dispensing:
    """Supply product for a cycle and take it from stock in the same transaction.

    The supply is made against the cycle's prescription: given, or else the one recorded for the
    patient and cycle (a supply without a checked prescription is refused, `supply_errors`).
    The batch row is locked first, so two pharmacists dispensing from the last units of a
    batch are serialised: the second sees the reduced stock and is refused.
    """
    authorise_write(actor, Area.PHARMACY, cycle.patient)
    if fields.get("prescription") is None:
        fields["prescription"] = Prescription.objects.filter(
            patient_id=cycle.patient_id, cycle_number=cycle.cycle_number
        ).first()
    with transaction.atomic():
        locked = Batch.objects.select_for_update().select_related("product").get(pk=batch.pk)
        dispensing = Dispensing(patient=cycle.patient, cycle=cycle, batch=locked, dispensed_by_user=actor, **fields)
        if actor is not None and not dispensing.dispensed_by:
            dispensing.dispensed_by = actor.get_full_name() or actor.username
        recipients_move(added=[(locked, cycle.patient_id)])  # saved with the stock below
        audited_save(dispensing, actor=actor)
        if ledger.is_tracked(locked):  # from the shelf of the patient's site
            ledger.take(locked, cycle.patient.site, dispensing.quantity)
        locked.quantity_remaining -= dispensing.quantity  # full_clean refused more than the stock
        audited_save(
            locked,
            actor=actor,
            reason=f"Stock: {dispensing.quantity} supplied to {cycle.patient} (cycle {cycle.cycle_number})",
        )
    return dispensing


def dispensing_update(
    *, actor: User | None, record: Dispensing, reason: str, expected_version: int | None, **changes: Any
) -> Dispensing:
    """Correct a supply. A changed quantity or batch moves stock: what was taken goes back to its
    batch and the new quantity is taken from the (new) batch, both rows locked, both audited. A
    changed batch moves the patient between the batches' recipient counts too."""
    authorise_write(actor, Area.PHARMACY, record.patient)
    with transaction.atomic():
        before = Dispensing.objects.select_for_update().get(pk=record.pk)
        for field, value in changes.items():
            setattr(record, field, value)
        batch_ids = sorted({before.batch_id, record.batch_id})  # a fixed order: no deadlock between two editors
        locked = {b.pk: b for b in Batch.objects.select_for_update().select_related("product").filter(pk__in=batch_ids)}
        record.batch = locked[record.batch_id]
        old, new = locked[before.batch_id], locked[record.batch_id]
        if old.pk != new.pk:  # saved with the stock below
            recipients_move(added=[(new, record.patient_id)], removed=[(old, before.patient_id, record.pk)])
        audited_save(record, actor=actor, reason=reason, expected_version=expected_version)
        moved = before.batch_id != record.batch_id or before.quantity != record.quantity
        if moved:
            old.quantity_remaining += before.quantity
            new.quantity_remaining -= record.quantity  # clean() checked the stock net of the returned quantity
            site = record.patient.site
            if ledger.is_tracked(old):
                ledger.give(old, site, before.quantity)
            if ledger.is_tracked(new):
                ledger.take(new, site, record.quantity)
            for batch in {old.pk: old, new.pk: new}.values():
                audited_save(batch, actor=actor, reason=f"Stock: dispensing to {record.patient} corrected ({reason})")
    return record


@transaction.atomic
def cycle_dispense(
    *,
    actor: User | None,
    patient: Patient,
    cycle_number: int,
    start_date: dt.date,
    batch: Batch,
    prescription: Prescription | None = None,
    **dispensing: Any,
) -> Dispensing:
    """Open the next 28-day cycle and supply it against its checked prescription, in one
    transaction: a refused supply (stock, cold chain, beyond-use time) leaves no cycle without
    its product. The cycle may start up to the dispensing window after today."""
    cycle = cycle_start(actor=actor, patient=patient, cycle_number=cycle_number, start_date=start_date)
    return dispensing_record(actor=actor, cycle=cycle, batch=batch, prescription=prescription, **dispensing)


# --- prescriptions and checks ---------------------------------------------------------------


def prescription_record(*, actor: User | None, patient: Patient, **fields: Any) -> Prescription:
    """Record the prescriber's order for a cycle (for a special, their unsolicited request)."""
    authorise_write(actor, Area.PHARMACY, patient)
    return audited_save(Prescription(patient=patient, **fields), actor=actor)


def prescription_update(
    *, actor: User | None, record: Prescription, reason: str, expected_version: int | None, **changes: Any
) -> Prescription:
    """Correct a prescription; a changed order needs its clinical check again."""
    if set(changes) - {"clinically_checked_by", "clinically_checked_at"}:
        changes = {**changes, "clinically_checked_by": None, "clinically_checked_at": None}
    return record_update(
        record, actor=actor, area=Area.PHARMACY, reason=reason, expected_version=expected_version, **changes
    )


def _require_pharmacist(actor: User | None, what: str) -> None:
    if actor is not None and actor.role != Role.PHARMACIST and not actor.is_superuser:
        raise PermissionDenied(f"Only a pharmacist may make the {what}.")


def prescription_clinical_check(
    *, actor: User, prescription: Prescription, expected_version: int | None = None
) -> Prescription:
    """A pharmacist's clinical check of the order: recorded with who and when."""
    _require_pharmacist(actor, "clinical check")
    if prescription.is_clinically_checked:
        raise ValidationError("This prescription is already clinically checked.")
    return record_update(
        prescription,
        actor=actor,
        area=Area.PHARMACY,
        reason="Clinical check by a pharmacist",
        expected_version=expected_version,
        clinically_checked_by=actor,
        clinically_checked_at=timezone.now(),
    )


def dispensing_accuracy_check(
    *, actor: User, dispensing: Dispensing, expected_version: int | None = None
) -> Dispensing:
    """The final accuracy check of an assembled supply, by a second person (not the dispenser)."""
    authorise_write(actor, Area.PHARMACY, dispensing.patient)
    if dispensing.accuracy_checked_at is not None:
        raise ValidationError("This supply is already accuracy-checked.")
    if dispensing.dispensed_by_user_id == actor.pk:
        raise ValidationError("The accuracy check is made by a second person, not the one who dispensed.")
    dispensing.accuracy_checked_by = actor
    dispensing.accuracy_checked_at = timezone.now()
    return audited_save(
        dispensing, actor=actor, reason="Accuracy check by a second person", expected_version=expected_version
    )


RECORD_SERVICES: dict[type[models.Model], RecordServices] = {
    Enrolment: RecordServices(enrolment_record, enrolment_update),
    Batch: RecordServices(batch_receive, batch_update),
    TreatmentCycle: RecordServices(cycle_start, cycle_update),
    Dispensing: RecordServices(dispensing_record, dispensing_update),
    Prescription: RecordServices(prescription_record, prescription_update),
}
