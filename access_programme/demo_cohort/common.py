"""What the demo cohort is made of: sites, weights, the programme start, the rows of one chunk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from access_programme.models import Dispensing, Enrolment, RouteCode, TreatmentCycle
from registry import scoring
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    Patient,
    PatientIdentity,
)

SITES = [
    ("GB-LON", "London MND Care Centre", "GB"),
    ("GB-SHF", "Sheffield MND Care Centre", "GB"),
    ("GB-OXF", "Oxford MND Care Centre", "GB"),
    ("GB-EDI", "Edinburgh MND Care Centre", "GB"),
    ("GB-MAN", "Manchester MND Care Centre", "GB"),
    ("FR-PAR", "Paris ALS Reference Centre", "FR"),
]
SITE_WEIGHTS = [0.26, 0.2, 0.14, 0.14, 0.14, 0.12]
ROUTE_WEIGHTS = {RouteCode.NHS_SPECIALS: 0.45, RouteCode.MANAGED_ACCESS: 0.35, RouteCode.NONE: 0.20}
PROGRAMME_START = dt.date(2025, 6, 1)
DEMO_REASON = "Synthetic demo cohort"
# Item weights for how each onset region spreads functional loss over the 12 items.
REGION_WEIGHTS = {
    "bulbar": [3, 2.5, 3, 1, 1, 0.8, 0.8, 0.7, 0.7, 1, 0.8, 0.6],
    "upper_limb": [0.8, 0.6, 0.7, 3, 3, 2, 1.2, 1, 1, 0.9, 0.7, 0.6],
    "lower_limb": [0.7, 0.5, 0.6, 1, 1, 1.5, 2, 3, 3, 0.9, 0.7, 0.6],
    "respiratory": [0.7, 0.5, 0.7, 0.8, 0.8, 1, 1, 1, 1, 3, 2.5, 2.5],
    "generalised": [1.2, 1, 1.2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.2, 1, 1],
}
ITEMS = [f for f in scoring.ITEM_FIELDS if f != "q5b_cutting_with_gastrostomy"]


@dataclass
class SeedResult:
    patients: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    skipped: bool = False

    def add(self, name: str, count: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + count


@dataclass
class Chunk:
    patients: list[Patient] = field(default_factory=list)
    identities: list[PatientIdentity] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    withdrawals: list[ConsentWithdrawal] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    assessments: list[AlsfrsrAssessment] = field(default_factory=list)
    biomarkers: list[BiomarkerResult] = field(default_factory=list)
    events: list[ClinicalEvent] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    cycles: list[TreatmentCycle] = field(default_factory=list)
    dispensings: list[Dispensing] = field(default_factory=list)
