"""The prescription rule in words: one supply's refusal, and one patient's data query naming
their cycles (an import's supplies kept without a checked prescription, docs/pharmacy.md)."""

from __future__ import annotations

from access_programme.models.supply_rules import MISSING, NO_PRESCRIPTION_RULE, UNCHECKED, prescription_finding

NEEDS = (
    "no prescription: a supply needs the prescriber's order for this patient and cycle, clinically checked by a "
    "pharmacist."
)


def test_a_patients_query_names_the_cycles_without_a_prescription_as_runs():
    finding = prescription_finding(dict.fromkeys([1, 2, 3, 5, 8, 9], MISSING))
    assert finding is not None
    assert (finding.rule, finding.field) == (NO_PRESCRIPTION_RULE, "prescription")
    assert finding.message == f"Cycles 1–3, 5 and 8–9 have {NEEDS}"


def test_a_patients_query_on_one_cycle_speaks_of_that_cycle():
    finding = prescription_finding({4: MISSING})
    assert finding is not None and finding.message == f"Cycle 4 has {NEEDS}"


def test_a_patients_query_groups_the_cycles_by_what_their_prescription_lacks():
    finding = prescription_finding({1: MISSING, 2: MISSING, 4: UNCHECKED, 6: UNCHECKED})
    assert finding is not None
    assert finding.message == (
        f"Cycles 1–2 have {NEEDS} Cycles 4 and 6: a pharmacist must clinically check the prescription before it "
        "is dispensed."
    )


def test_a_patient_whose_prescriptions_lack_nothing_has_no_query():
    assert prescription_finding({}) is None
