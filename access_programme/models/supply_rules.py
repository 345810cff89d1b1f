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

An imported historical supply that has no (checked) prescription in the registry is kept; the
import raises one data query per patient naming those cycles, in the same words
(`prescription_finding`), see docs/pharmacy.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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


#: What a supply's prescription may lack, each said once: the refusal of one supply (web pages,
#: API, admin) and the data query of an import's supplies (its cycles listed) both read these.
MISSING, OTHER, UNCHECKED, NO_REQUEST = "missing", "other", "unchecked", "no_request"
_LACKS = {
    MISSING: (
        "no prescription: a supply needs the prescriber's order for this patient and cycle, clinically checked "
        "by a pharmacist."
    ),
    OTHER: "the prescription is for another patient or cycle.",
    UNCHECKED: "a pharmacist must clinically check the prescription before it is dispensed.",
    NO_REQUEST: (
        "a special is supplied only on the prescriber's unsolicited request (reg. 167): the prescription does "
        "not record it."
    ),
}


def prescription_lack(
    prescription: PrescriptionFacts | None, *, patient_id: int | None, cycle_number: int, special: bool
) -> str | None:
    """What the supply's prescription lacks (a key of `_LACKS`), or None: a supply needs the
    prescriber's order for that patient and cycle, clinically checked by a pharmacist; a
    special's order must record the prescriber's unsolicited request (reg. 167)."""
    if prescription is None:
        return MISSING
    if prescription.patient_id != patient_id or prescription.cycle_number != cycle_number:
        return OTHER
    if not prescription.is_clinically_checked:
        return UNCHECKED
    if special and not prescription.unsolicited_request:
        return NO_REQUEST
    return None


def prescription_errors(
    prescription: PrescriptionFacts | None, *, patient_id: int | None, cycle_number: int, special: bool
) -> dict[str, str]:
    """The prescription rule as the refusal of one supply."""
    lack = prescription_lack(prescription, patient_id=patient_id, cycle_number=cycle_number, special=special)
    if lack is None:
        return {}
    if lack == MISSING:
        return {"prescription": f"Cycle {cycle_number} has {_LACKS[MISSING]}"}
    return {"prescription": _LACKS[lack][0].upper() + _LACKS[lack][1:]}


def prescription_finding(lacks: Mapping[int, str]) -> Finding | None:
    """The prescription rule as one data query for a patient's supplies kept from an import
    (`lacks`: what each cycle's prescription lacks, by cycle number), naming the cycles so the
    data manager sees which to resolve: "Cycles 1–6 have no prescription: …"."""
    by_lack: dict[str, list[int]] = {}
    for number, lack in sorted(lacks.items()):
        by_lack.setdefault(lack, []).append(number)
    sentences = []
    for lack in _LACKS:
        numbers = by_lack.get(lack)
        if not numbers:
            continue
        cycles = _cycles(numbers)
        if lack == MISSING:
            sentences.append(f"{cycles} {'has' if len(numbers) == 1 else 'have'} {_LACKS[MISSING]}")
        else:
            sentences.append(f"{cycles}: {_LACKS[lack]}")
    if not sentences:
        return None
    return Finding(rule=NO_PRESCRIPTION_RULE, field="prescription", message=" ".join(sentences))


def _cycles(numbers: list[int]) -> str:
    """'Cycle 3', 'Cycles 1–6', 'Cycles 1–3, 5 and 8–9' (numbers sorted, distinct)."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    parts = [str(first) if first == last else f"{first}–{last}" for first, last in runs]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Cycle {listed}" if len(numbers) == 1 else f"Cycles {listed}"
