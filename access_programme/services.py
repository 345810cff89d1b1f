"""Writes for the access programme: enrolment, batches, cycles and dispensing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from access_programme.eligibility import EligibilityInput, age_in_years, unmet_mirocals_criteria
from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Enrolment,
    Product,
    Route,
    TreatmentCycle,
)
from registry.constants import DOSING_DAYS_PER_CYCLE, PROTOCOL_DAILY_DOSE_MIU
from registry.models import Diagnosis, Patient, PatientIdentity, User
from registry.roles import Area
from registry.services import audited_save, check_may_write, record_update


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


def enrolment_create(
    *,
    user: User | None,
    patient: Patient,
    route: Route,
    enrolment_date: dt.date,
    first_dose_date: dt.date | None = None,
    eligibility_justification: str = "",
    treating_clinician: str = "",
) -> Enrolment:
    """Enrol with the MIROCALS check recorded; unmet criteria need a justification, not a refusal."""
    check_may_write(user, Area.CLINICAL, patient)
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
    return audited_save(enrolment, user=user)


def batch_receive(*, user: User | None, product: Product, **fields: Any) -> Batch:
    check_may_write(user, Area.PHARMACY)
    fields.setdefault("quantity_remaining", fields.get("quantity_received"))
    return audited_save(Batch(product=product, **fields), user=user)


def batch_set_status(
    *, user: User | None, batch: Batch, status: BatchStatus, reason: str, expected_version: int | None = None
) -> Batch:
    """Quarantine, recall or release a batch; the reason is both the status reason and the audit reason."""
    return record_update(
        batch,
        user=user,
        area=Area.PHARMACY,
        reason=f"Batch {status}: {reason}",
        expected_version=expected_version,
        status=status,
        status_reason=reason,
    )


def cycle_record(
    *,
    user: User | None,
    patient: Patient,
    cycle_number: int,
    start_date: dt.date,
    days_administered: int = DOSING_DAYS_PER_CYCLE,
    planned_dose_miu: Decimal = PROTOCOL_DAILY_DOSE_MIU,
    total_dose_miu: Decimal | None = None,
    interrupted: bool = False,
    interruption_reason: str = "",
) -> TreatmentCycle:
    check_may_write(user, Area.PHARMACY, patient)
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
    return audited_save(cycle, user=user)


def usable_batches(product: Product, on: dt.date, quantity: int = 1) -> list[Batch]:
    """Batches that may be dispensed, first-expiry-first-out."""
    candidates = Batch.objects.filter(
        product=product, status=BatchStatus.AVAILABLE, expiry_date__gte=on, quantity_remaining__gte=quantity
    ).order_by("expiry_date", "received_on", "batch_number")
    return list(candidates)


def dispensing_record(*, user: User | None, cycle: TreatmentCycle, batch: Batch, **fields: Any) -> Dispensing:
    """Supply product for a cycle and take it from stock in the same transaction.

    The batch row is locked first, so two pharmacists dispensing from the last units of a
    batch are serialised: the second sees the reduced stock and is refused.
    """
    check_may_write(user, Area.PHARMACY, cycle.patient)
    with transaction.atomic():
        locked = Batch.objects.select_for_update().select_related("product").get(pk=batch.pk)
        dispensing = Dispensing(patient=cycle.patient, cycle=cycle, batch=locked, dispensed_by_user=user, **fields)
        if user is not None and not dispensing.dispensed_by:
            dispensing.dispensed_by = user.get_full_name() or user.username
        audited_save(dispensing, user=user)
        if dispensing.quantity > locked.quantity_remaining:  # full_clean already refused; belt and braces
            raise ValidationError({"quantity": "Not enough stock."})
        locked.quantity_remaining -= dispensing.quantity
        audited_save(
            locked,
            user=user,
            reason=f"Stock: {dispensing.quantity} supplied to {cycle.patient} (cycle {cycle.cycle_number})",
        )
    return dispensing


# --- web app: enrolment in one step, and a cycle dispensed in one step ----------------------


def patient_enrol(
    *,
    user: User | None,
    site: Any,
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
    from registry.services import patient_register

    with transaction.atomic():
        patient = patient_register(
            user=user,
            site=site,
            sex=sex,
            year_of_birth=year_of_birth,
            diagnosis=diagnosis,
            consent=consent,
            identity=identity,
        )
        return enrolment_create(
            user=user,
            patient=patient,
            route=route,
            enrolment_date=enrolment_date,
            first_dose_date=first_dose_date,
            eligibility_justification=eligibility_justification,
            treating_clinician=treating_clinician,
        )


def cycle_dispense(
    *,
    user: User | None,
    patient: Patient,
    cycle_number: int,
    start_date: dt.date,
    batch: Batch,
    **dispensing: Any,
) -> Dispensing:
    """Open the next 28-day cycle and supply it, in one transaction: a refused supply (stock,
    cold chain, beyond-use time) leaves no cycle without its product."""
    with transaction.atomic():
        cycle = cycle_record(user=user, patient=patient, cycle_number=cycle_number, start_date=start_date)
        return dispensing_record(user=user, cycle=cycle, batch=batch, **dispensing)
