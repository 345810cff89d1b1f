"""MIROCALS eligibility, checked but not enforced: real-world use may depart from the trial.

Criteria (NCT03039673; Bensimon et al., Lancet 2025): age 18 to under 76 ("18 years old and
less than 76" in the trial listing), symptom duration ≤ 24 months, SVC ≥ 70 % predicted,
possible / laboratory-supported probable / probable / definite ALS (revised El Escorial),
and riluzole treatment (the trial's run-in put every patient on riluzole before randomisation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

from registry.constants import DAYS_PER_MONTH as DAYS_MONTH

MIN_AGE = 18
MAX_AGE_EXCLUSIVE = 76
MAX_SYMPTOM_MONTHS = Decimal(24)
MIN_SVC_PERCENT = Decimal(70)
ELIGIBLE_EL_ESCORIAL = frozenset({"possible", "probable_lab_supported", "probable", "definite"})
DAYS_PER_MONTH = Decimal(DAYS_MONTH)  # 30.4375 exactly


@dataclass(frozen=True)
class UnmetCriterion:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class EligibilityInput:
    enrolment_date: dt.date
    age_years: int | None
    symptom_onset_date: dt.date | None
    svc_percent: Decimal | None
    el_escorial: str | None
    riluzole_start_date: dt.date | None


def age_in_years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def months_between(start: dt.date, end: dt.date) -> Decimal:
    return (Decimal((end - start).days) / DAYS_PER_MONTH).quantize(Decimal("0.1"))


def unmet_mirocals_criteria(data: EligibilityInput) -> list[UnmetCriterion]:
    """Every criterion the patient does not meet, each with a message a clinician can act on."""
    unmet: list[UnmetCriterion] = []
    if data.age_years is None:
        unmet.append(UnmetCriterion("age_unknown", "age at enrolment unknown"))
    elif not MIN_AGE <= data.age_years < MAX_AGE_EXCLUSIVE:
        unmet.append(UnmetCriterion("age", f"age {data.age_years} is outside 18 to under 76"))
    if data.symptom_onset_date is None:
        unmet.append(UnmetCriterion("symptom_duration_unknown", "symptom onset date unknown"))
    else:
        months = months_between(data.symptom_onset_date, data.enrolment_date)
        if months > MAX_SYMPTOM_MONTHS:
            unmet.append(UnmetCriterion("symptom_duration", f"symptom duration {months} months exceeds 24"))
    if data.svc_percent is None:
        unmet.append(UnmetCriterion("svc_unknown", "SVC not recorded"))
    elif data.svc_percent < MIN_SVC_PERCENT:
        unmet.append(UnmetCriterion("svc", f"SVC {data.svc_percent}% predicted is below 70%"))
    if data.el_escorial not in ELIGIBLE_EL_ESCORIAL:
        unmet.append(UnmetCriterion("el_escorial", "El Escorial category not possible, probable or definite"))
    if data.riluzole_start_date is None or data.riluzole_start_date > data.enrolment_date:
        unmet.append(UnmetCriterion("riluzole", "not on riluzole at enrolment"))
    return unmet
