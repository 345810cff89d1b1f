"""What the supply-rule tests on every path share (test_supply_every_path.py, test_supply_admin_path.py):
the refusals' exact messages, which every path must give word for word, and a prescription made
through the services as a prescriber and a pharmacist would."""

from __future__ import annotations

import datetime as dt

from access_programme import services
from access_programme.models import Prescription
from registry.models import Patient, User
from tests.factories import days_ago

TODAY = days_ago(0)
NO_PRESCRIPTION = (
    "Cycle {n} has no prescription: a supply needs the prescriber's order for this patient and cycle, "
    "clinically checked by a pharmacist."
)
NO_PRESCRIPTIONS = (
    "Cycles 1–3 have no prescription: a supply needs the prescriber's order for this patient and cycle, "
    "clinically checked by a pharmacist."
)
UNCHECKED = "A pharmacist must clinically check the prescription before it is dispensed."
WINDOW = "A cycle is dispensed at most 7 days before it starts."


def prescribe(patient: Patient, number: int, checked_by: User | None, on: dt.date = TODAY) -> Prescription:
    made = services.prescription_record(
        actor=None,
        patient=patient,
        cycle_number=number,
        prescribed_on=on,
        prescriber="Dr A. Consultant (GMC 1234567)",
        unsolicited_request=True,
        special_need="ALS; no licensed alternative",
    )
    if checked_by is not None:
        made = services.prescription_clinical_check(actor=checked_by, prescription=made)
    return made
