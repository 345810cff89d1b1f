"""Rules that read other rows, evaluated against the import's view of a patient.

Three models check their siblings in `clean()` with queries: a death (no second death, no
record after it), a treatment cycle (28 days from the previous and the next cycle, cycle 1 on
the first dose date), and a dispensing (the patient's route and enrolment). Run per row, those
queries would cap an import at a few hundred rows a second, so the importer loads each
patient's siblings once per chunk (from the database, plus the rows accepted earlier in the
import) and applies the rules here.

Each function restates its model's `clean()` in the same order, with the same messages, and
calls the model's own helpers where there are any (`Batch.unusable_reason`, `check_order`,
`TreatmentCycle.next_due_date`, `doses_missed`). `tests/interchange/test_rule_parity.py` holds
every message here to the model's, so a change to a model rule that is not mirrored here
fails the tests. Everything else a model checks is run by calling the model itself (see
`registry.interchange.validation`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from access_programme.models import (
    CYCLE_LENGTH_DAYS,
    DOSING_DAYS_PER_CYCLE,
    Batch,
    BatchStatus,
    Dispensing,
    Enrolment,
    TreatmentCycle,
)
from registry.models import NON_FIELD, ClinicalEvent, ClinicalRecord, EventType, check_order, rules_today

#: Dispensing rules the format cannot satisfy: RIF carries no reconstitution or beyond-use
#: time and no cold-chain confirmation (point-of-supply records kept by the dispensing
#: pharmacy). They are checked when a pharmacist records a supply, not on import.
DISPENSING_FIELDS_NOT_IN_RIF = frozenset({"reconstituted_at", "beyond_use_at", "cold_chain_confirmed"})
#: Batch fields the format does not carry; a batch created from dispensing.csv lacks them.
BATCH_FIELDS_NOT_IN_RIF = frozenset({"manufacturer_licence", "max_hours_after_reconstitution"})


@dataclass(frozen=True)
class Sibling:
    """Another cycle of the same patient: in the database (pk) or accepted earlier (pk None)."""

    number: int
    start_date: dt.date
    pk: int | None


def death_errors(
    event: ClinicalEvent,
    *,
    other_death: dt.date | None,
    latest_record: dt.date | None,
    symptom_onset: dt.date | None,
) -> None:
    """ClinicalEvent.clean() for a death: one death, nothing recorded after it, not before onset.

    `other_death` is another death of the patient (database or this import); `latest_record`
    the latest timeline date among the patient's other records.
    """
    if event.event_type != EventType.DEATH:
        raise ValueError("death_errors() is for deaths; other events run ClinicalEvent.clean() itself.")
    if other_death is not None:
        raise ValidationError({"event_type": "A death is already recorded for this patient."})
    ClinicalRecord.clean(event)
    if latest_record is not None and event.event_date is not None and latest_record > event.event_date:
        raise ValidationError(
            {"event_date": f"Records exist dated {latest_record:%d %b %Y}, after this date of death."}
        )
    check_order(symptom_onset, event.event_date, "event_date", "The event precedes symptom onset.")


def cycle_errors(
    cycle: TreatmentCycle, *, enrolment: Enrolment | None, siblings: list[Sibling], today: dt.date | None = None
) -> None:
    """TreatmentCycle.clean(): its timeline rules, then the route, schedule, dose and interruption rules."""
    ClinicalRecord.clean(cycle)
    if cycle.start_date is None or cycle.cycle_number is None:
        return
    if enrolment is None or not enrolment.route.is_treatment:
        raise ValidationError({NON_FIELD: "Only patients enrolled on a treatment route have cycles."})
    if cycle.cycle_number == 1 and enrolment.first_dose_date and cycle.start_date != enrolment.first_dose_date:
        raise ValidationError(
            {"start_date": f"Cycle 1 starts on the first dose date ({enrolment.first_dose_date:%d %b %Y})."}
        )
    check_order(enrolment.enrolment_date, cycle.start_date, "start_date", "The cycle starts before enrolment.")
    previous = following = None
    number = cycle.cycle_number
    for sibling in siblings:
        if sibling.pk is not None and sibling.pk == cycle.pk:
            continue
        if sibling.number < number and (previous is None or sibling.number > previous.number):
            previous = sibling
        elif sibling.number > number and (following is None or sibling.number < following.number):
            following = sibling
    if previous is not None:
        previous_due = previous.start_date + dt.timedelta(days=CYCLE_LENGTH_DAYS)
        if cycle.start_date < previous_due:
            raise ValidationError(
                {
                    "start_date": (
                        f"Cycle {cycle.cycle_number} starts {(cycle.start_date - previous.start_date).days} days "
                        f"after cycle {previous.number}; cycles are at least {CYCLE_LENGTH_DAYS} days apart "
                        f"(earliest {previous_due:%d %b %Y})."
                    )
                }
            )
    if following is not None and following.start_date < cycle.next_due_date:
        raise ValidationError(
            {"start_date": f"Cycle {following.number} would start less than {CYCLE_LENGTH_DAYS} days later."}
        )
    if cycle.total_dose_miu is not None and cycle.planned_dose_miu is not None:
        maximum = cycle.planned_dose_miu * (cycle.days_administered or 0)
        if cycle.total_dose_miu > maximum:
            raise ValidationError(
                {
                    "total_dose_miu": f"{cycle.total_dose_miu} MIU exceeds {cycle.days_administered} days × "
                    f"{cycle.planned_dose_miu} MIU."
                }
            )
    if cycle.interrupted and not cycle.interruption_reason.strip():
        raise ValidationError({"interruption_reason": "Give the reason the cycle was interrupted."})
    dosing_over = cycle.start_date + dt.timedelta(days=DOSING_DAYS_PER_CYCLE) <= (today or rules_today())
    if dosing_over and cycle.doses_missed and not cycle.interrupted:
        raise ValidationError(
            {"interrupted": f"{cycle.doses_missed} dose(s) missed: mark the cycle interrupted and give a reason."}
        )


def dispensing_errors(
    dispensing: Dispensing,
    *,
    cycle_patient_id: int | None,
    batch: Batch,
    enrolment: Enrolment | None,
    previous_quantity_same_batch: int | None,
    stock_known: bool,
    scratch: Batch | None = None,
) -> None:
    """Dispensing.clean() without the point-of-supply rules RIF cannot carry.

    `previous_quantity_same_batch` is the quantity an existing record already took from the
    same batch (an update gives it back before checking stock). `stock_known` is False for a
    batch the registry only knows from imported dispensings: it never held its stock.
    """
    ClinicalRecord.clean(dispensing)
    errors: dict[str, str] = {}
    if cycle_patient_id is not None and dispensing.patient_id and cycle_patient_id != dispensing.patient_id:
        errors["cycle"] = "This cycle belongs to another patient."
    if dispensing.dispensed_on and dispensing.quantity:
        same_batch = previous_quantity_same_batch is not None
        already = previous_quantity_same_batch or 0
        remaining = batch.quantity_remaining + already if stock_known else dispensing.quantity
        # The stand-in batch Dispensing.clean() builds; `scratch` lets a bulk caller reuse one.
        batch_for_check = scratch if scratch is not None else Batch()
        batch_for_check.batch_number = batch.batch_number
        batch_for_check.status = BatchStatus.AVAILABLE if same_batch else batch.status
        batch_for_check.expiry_date = batch.expiry_date
        batch_for_check.quantity_remaining = remaining
        batch_for_check.quantity_unit = batch.quantity_unit
        reason = batch_for_check.unusable_reason(dispensing.dispensed_on, dispensing.quantity)
        if reason:
            errors["batch"] = reason
        if dispensing.quantity_unit and dispensing.quantity_unit != batch.quantity_unit:
            errors["quantity_unit"] = f"Batch {batch.batch_number} is supplied in {batch.quantity_unit}s."
        if enrolment and batch.product.route_id != enrolment.route_id:
            errors["batch"] = f"{batch.product.name} is not supplied on the patient's route ({enrolment.route})."
    if errors:
        raise ValidationError(errors)
