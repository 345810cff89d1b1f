"""The rules of a supply that every path applies the same way (issue 16, item 1).

Pure functions over plain facts, each returning its refusals by field, so the model's `clean()`
(web pages, API, admin, through the services) and the importer (`interchange.loaders`) state
each rule once and refuse with the same message:

* the prescription step: a supply is made against the prescriber's order for that patient and
  cycle, clinically checked by a pharmacist; for a special, the order is the prescriber's
  unsolicited request (Human Medicines Regulations 2012, regulation 167);
* the dispensing window: no earlier than `PHARMACY_DISPENSE_AHEAD_DAYS` before the cycle
  starts. The 28-day rule is the cycle's (`cycles.cycle_errors`, on its start date), never the
  supply's.

An imported historical supply that has no (checked) prescription in the registry is kept and
raises a data query with the same message (`prescription_findings`), see docs/pharmacy.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from access_programme.models.cycles import dispense_ahead_days
from registry.models import Finding

#: The data-quality rule of an imported supply without a checked prescription.
NO_PRESCRIPTION_RULE = "dispensing_without_prescription"


class PrescriptionFacts(Protocol):
    """What the rules read of a prescription (a `Prescription`)."""

    patient_id: int
    cycle_number: int
    unsolicited_request: bool

    @property
    def is_clinically_checked(self) -> bool: ...


def window_errors(dispensed_on: dt.date | None, cycle_start: dt.date | None) -> dict[str, str]:
    """A cycle is dispensed no earlier than the dispensing window before its first day."""
    if dispensed_on is None or cycle_start is None:
        return {}
    ahead = dispense_ahead_days()
    if dispensed_on < cycle_start - dt.timedelta(days=ahead):
        return {"dispensed_on": f"A cycle is dispensed at most {ahead} days before it starts."}
    return {}


def prescription_errors(
    prescription: PrescriptionFacts | None, *, patient_id: int | None, cycle_number: int, special: bool
) -> dict[str, str]:
    """A supply needs the prescriber's order for that patient and cycle, clinically checked by a
    pharmacist; a special's order must record the prescriber's unsolicited request (reg. 167)."""
    if prescription is None:
        return {
            "prescription": (
                f"Cycle {cycle_number} has no prescription: a supply needs the prescriber's order for this "
                "patient and cycle, clinically checked by a pharmacist."
            )
        }
    if prescription.patient_id != patient_id or prescription.cycle_number != cycle_number:
        return {"prescription": "The prescription is for another patient or cycle."}
    if not prescription.is_clinically_checked:
        return {"prescription": "A pharmacist must clinically check the prescription before it is dispensed."}
    if special and not prescription.unsolicited_request:
        return {
            "prescription": (
                "A special is supplied only on the prescriber's unsolicited request (reg. 167): "
                "the prescription does not record it."
            )
        }
    return {}


def prescription_findings(
    prescription: PrescriptionFacts | None, *, patient_id: int | None, cycle_number: int, special: bool
) -> list[Finding]:
    """The prescription rule as a data query, for a supply kept from an import: same message."""
    errors = prescription_errors(prescription, patient_id=patient_id, cycle_number=cycle_number, special=special)
    return [Finding(rule=NO_PRESCRIPTION_RULE, field=field, message=message) for field, message in errors.items()]
