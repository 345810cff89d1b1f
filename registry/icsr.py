"""Structured safety output: one case as an ICH E2B(R3) ICSR, and periodic SAE line listings.

The ICSR is structured JSON keyed by the E2B(R3) data element numbers (ICH E2B(R3)
Implementation Guide, section 3, "Data elements"), so a company's safety database or the
MHRA's Yellow Card form can be filled field by field; docs/safety.md maps each element to the
registry's field. The patient is pseudonymised: the study id stands in D.1 (patient
initials are not sent), never the identity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from registry.models import AdverseEvent, CtcaeGrade, SafetyCase, SafetyReport

#: E2B(R3) E.i.7 outcome codes.
OUTCOME_CODES = {
    "recovered": 1,
    "recovering": 2,
    "not_recovered": 3,
    "recovered_with_sequelae": 4,
    "fatal": 5,
    "unknown": 0,
}
#: E2B(R3) G.k.8 action taken with the drug.
ACTION_CODES = {
    "withdrawn": 1,
    "dose_reduced": 2,
    "none": 4,
    "unknown": 0,
    "not_applicable": 9,
    "interrupted": 1,  # no code of its own; G.k.11 says "interrupted"
}
#: E2B(R3) D.5 sex.
SEX_CODES = {"male": 1, "female": 2}


def _date(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y%m%d%H%M")
    return value.strftime("%Y%m%d")


def icsr_document(case: SafetyCase, now: dt.datetime | None = None) -> dict[str, Any]:
    """The case as an ICSR, by E2B(R3) element; the latest report sent gives C.1.5 and H.1."""
    event: AdverseEvent = case.adverse_event
    patient = event.patient
    clock = case.clock
    reports = list(case.reports.order_by("sequence"))
    latest: SafetyReport | None = reports[-1] if reports else None
    death = patient.death_date()
    onset_age = event.onset_date.year - patient.year_of_birth
    return {
        "C.1.1": case.case_number,
        "C.1.2": _date(now or timezone.now()),
        "C.1.3": 2,  # report from study (registry / managed access)
        "C.1.4": _date(case.aware_at),
        "C.1.5": _date(latest.sent_at if latest else case.aware_at),
        "C.1.7": clock.initial_hours is not None or clock.recipient == "yellow_card",
        "C.1.8.1": latest.reference if latest else None,
        "C.2.r.4": 1,  # physician
        "C.2.r.3": patient.site.country,
        "C.3.3.1": patient.site.name,
        "C.5.4": 2,  # individual patient use
        "D.1": patient.study_id,
        "D.2.2a": onset_age,
        "D.2.2b": "a",  # years (from the year of birth: ±1)
        "D.5": SEX_CODES.get(patient.sex),
        "D.9.1": _date(death),
        "E.i.1.1a": event.term,
        "E.i.1.1b": "en",
        "E.i.2.1b": event.meddra_llt_code or None,
        "E.i.3.2a": event.criterion_death,
        "E.i.3.2b": event.criterion_life_threatening,
        "E.i.3.2c": event.criterion_hospitalisation,
        "E.i.3.2d": event.criterion_disability,
        "E.i.3.2e": event.criterion_congenital_anomaly,
        "E.i.3.2f": event.criterion_important_medical_event,
        "E.i.4": _date(event.onset_date),
        "E.i.5": _date(event.resolution_date),
        "E.i.7": OUTCOME_CODES.get(event.outcome, 0),
        "CTCAE grade": f"{event.ctcae_grade} ({CtcaeGrade(event.ctcae_grade).label})",
        "G.k.1": 1,  # suspect
        "G.k.2.2": clock.product or None,
        "G.k.2.3.r.1": "aldesleukin" if clock.product else None,
        "G.k.8": ACTION_CODES.get(event.action_taken, 0),
        "G.k.9.i.2.r": [
            {"r.1": "Primary source (investigator)", "r.2": "Global introspection", "r.3": event.relatedness},
            {"r.1": "Sender (registry safety review)", "r.2": "Global introspection", "r.3": case.causality or None},
        ],
        "G.k.11": _drug_information(case),
        "H.1": (latest.narrative if latest else case.narrative) or None,
        "H.4": f"Expectedness against {clock.reference_safety_information or 'no product'}: "
        f"{case.get_expectedness_display()}.",
        "follow_ups": [
            {"sequence": r.sequence, "sent_at": _date(r.sent_at), "reference": r.reference, "recipient": r.recipient}
            for r in reports
        ],
    }


def _drug_information(case: SafetyCase) -> str | None:
    clock = case.clock
    if not clock.product:
        return None
    notes = [f"Reference safety information: {clock.reference_safety_information}."]
    if clock.unlicensed:
        notes.insert(0, "Unlicensed medicinal product (supplied as a special / under managed access).")
    if case.adverse_event.action_taken == "interrupted":
        notes.append("Treatment interrupted.")
    return " ".join(notes)


LINE_LISTING_HEADER = (
    "case_number",
    "study_id",
    "site",
    "route",
    "aware_at",
    "onset_date",
    "term",
    "meddra_llt_code",
    "ctcae_grade",
    "seriousness_criteria",
    "causality_investigator",
    "causality_sender",
    "expectedness",
    "susar",
    "outcome",
    "initial_due_at",
    "first_report_sent_at",
    "report_reference",
    "follow_ups",
    "status",
)


def line_listing_rows(cases: Iterable[SafetyCase]) -> list[list[Any]]:
    """One row per case, in the header's order (cases with their event, patient, site and reports loaded)."""
    rows = []
    for case in cases:
        event = case.adverse_event
        reports = sorted(case.reports.all(), key=lambda r: r.sequence)
        first = reports[0] if reports else None
        rows.append(
            [
                case.case_number,
                event.patient.study_id,
                event.patient.site.code,
                case.route_code,
                timezone.localtime(case.aware_at).isoformat(timespec="minutes"),
                event.onset_date.isoformat(),
                event.term,
                event.meddra_llt_code,
                event.ctcae_grade,
                ";".join(event.seriousness_criteria),
                event.relatedness,
                case.causality,
                case.expectedness,
                "yes" if case.is_susar else "no",
                event.outcome,
                timezone.localtime(case.initial_due_at).isoformat(timespec="minutes") if case.initial_due_at else "",
                timezone.localtime(first.sent_at).isoformat(timespec="minutes") if first else "",
                first.reference if first else "",
                max(len(reports) - 1, 0),
                case.status,
            ]
        )
    return rows
