"""The checks behind the data-quality rules: code found by each rule's `code`.

A rule's row (`DataQualityRule`) says whether it runs, its severity and its thresholds; the
check here reads them. Each check is set-wise over a list of patient ids and returns the
records it doubts with what it found; `registry.services.quality` turns them into queries.
A check runs nightly over every patient (`data_quality_scan`) and, when it names the kind of
record it watches (`triggers`), after every save of such a record, for that patient.

Apps above the registry register their own checks (the access programme's missed doses) in
their `AppConfig.ready`, so the registry never imports them.

Thresholds follow the reference's plausibility checks (docs/data-quality.md): a monthly
ALSFRS-R decline above 3 points or a rise above 4 points between visits is queried; visits
are expected every 13 weeks (`ALSFRSR_INTERVAL_DAYS`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from django.db import models
from django.db.models import Max

from registry.constants import ALSFRSR_INTERVAL_DAYS, DAYS_PER_MONTH
from registry.models import (
    AlsfrsrAssessment,
    Analyte,
    BiomarkerResult,
    ClinicalEvent,
    ClinicalRecord,
    DataQualityRule,
    EventType,
    Finding,
    Patient,
    as_date,
    collection_withdrawals,
)

FoundOn = tuple[ClinicalRecord, Finding]
Check = Callable[[DataQualityRule, Sequence[int], dt.date], list[FoundOn]]

MISSING_VISIT = "alsfrsr_missing_visit"
OUT_OF_WINDOW = "alsfrsr_out_of_window"
IMPLAUSIBLE_JUMP = "alsfrsr_implausible_jump"
PNFH_WITHOUT_ASSAY = "pnfh_without_assay"

#: Assay names that name no assay.
ASSAY_PLACEHOLDERS = ("", "unknown", "not known", "n/a", "na", "-", "?", "none", "not stated")


@dataclass(frozen=True)
class RuleCheck:
    code: str
    check: Check
    #: The kinds of record whose save runs the check for their patient (none: nightly only).
    triggers: tuple[type[models.Model], ...]


CHECKS: dict[str, RuleCheck] = {}


def register(code: str, *triggers: type[models.Model]) -> Callable[[Check], Check]:
    def decorate(check: Check) -> Check:
        CHECKS[code] = RuleCheck(code, check, triggers)
        return check

    return decorate


def checks_triggered_by(model: type[models.Model]) -> list[RuleCheck]:
    return [rule_check for rule_check in CHECKS.values() if model in rule_check.triggers]


# --- the registry's own checks ----------------------------------------------------------------


def _assessments_by_patient(patient_ids: Sequence[int]) -> dict[int, list[AlsfrsrAssessment]]:
    found: dict[int, list[AlsfrsrAssessment]] = defaultdict(list)
    rows = AlsfrsrAssessment.objects.filter(patient_id__in=list(patient_ids)).only(
        "pk", "patient_id", "assessment_date", "total", "updated_at"
    )
    for assessment in rows.order_by("patient_id", "assessment_date"):
        found[assessment.patient_id].append(assessment)
    return found


def follow_up_ends(patient_ids: Sequence[int]) -> dict[int, dt.date]:
    """The day data collection stopped for each patient that stopped: death, or a withdrawal
    from further data collection (nothing is expected after it)."""
    ends: dict[int, dt.date] = {}
    deaths = ClinicalEvent.objects.filter(patient_id__in=list(patient_ids), event_type=EventType.DEATH)
    for patient_id, day in deaths.values_list("patient_id", "event_date"):
        ends[patient_id] = day
    for patient_id, withdrawn in collection_withdrawals(list(patient_ids)).items():
        ends[patient_id] = min(withdrawn, ends.get(patient_id, withdrawn))
    return ends


@register(MISSING_VISIT)
def missing_visit(rule: DataQualityRule, patient_ids: Sequence[int], today: dt.date) -> list[FoundOn]:
    """No ALSFRS-R within the interval plus its grace period since the last one (or since
    registration, for a patient never assessed), for a patient still followed."""
    interval = int(rule.parameter("interval_days", ALSFRSR_INTERVAL_DAYS))
    grace = int(rule.parameter("grace_days", 28))
    ends = follow_up_ends(patient_ids)
    last = dict(
        AlsfrsrAssessment.objects.filter(patient_id__in=list(patient_ids))
        .values("patient_id")
        .annotate(last=Max("assessment_date"))
        .values_list("patient_id", "last")
    )
    found: list[FoundOn] = []
    for patient in Patient.objects.filter(pk__in=list(patient_ids)).only("pk", "study_id", "created_at", "updated_at"):
        if patient.pk in ends:
            continue
        anchor = last.get(patient.pk) or as_date(patient.created_at)
        due = anchor + dt.timedelta(days=interval)
        if today <= due + dt.timedelta(days=grace):
            continue
        since = "registration" if patient.pk not in last else f"the last one on {anchor:%d %b %Y}"
        message = f"No ALSFRS-R since {since}: a visit was due by {due:%d %b %Y}. Record it or say why it was missed."
        found.append((patient, Finding(MISSING_VISIT, "", message, since=due)))
    return found


@register(OUT_OF_WINDOW, AlsfrsrAssessment)
def out_of_window(rule: DataQualityRule, patient_ids: Sequence[int], today: dt.date) -> list[FoundOn]:
    """A follow-up ALSFRS-R further than the window from its scheduled visit (baseline plus a
    whole number of intervals)."""
    interval = int(rule.parameter("interval_days", ALSFRSR_INTERVAL_DAYS))
    window = int(rule.parameter("window_days", 14))
    found: list[FoundOn] = []
    for assessments in _assessments_by_patient(patient_ids).values():
        baseline = assessments[0].assessment_date
        for assessment in assessments[1:]:
            offset = (assessment.assessment_date - baseline).days
            visit = max(1, round(offset / interval))
            scheduled = baseline + dt.timedelta(days=visit * interval)
            distance = (assessment.assessment_date - scheduled).days
            if abs(distance) > window:
                message = (
                    f"Visit {visit} was scheduled for {scheduled:%d %b %Y} (± {window} days); this assessment is "
                    f"{abs(distance)} days {'late' if distance > 0 else 'early'}. Confirm the date, or say it was "
                    "an unscheduled visit."
                )
                found.append((assessment, Finding(OUT_OF_WINDOW, "assessment_date", message)))
    return found


@register(IMPLAUSIBLE_JUMP, AlsfrsrAssessment)
def implausible_jump(rule: DataQualityRule, patient_ids: Sequence[int], today: dt.date) -> list[FoundOn]:
    """An ALSFRS-R total that rose by more than `max_rise` points since the previous visit, or
    fell faster than `max_monthly_decline` points a month (a fall within a month counts as one
    month's)."""
    max_rise = int(rule.parameter("max_rise", 4))
    max_decline = float(rule.parameter("max_monthly_decline", 3))
    found: list[FoundOn] = []
    for assessments in _assessments_by_patient(patient_ids).values():
        for previous, current in pairwise(assessments):
            change = current.total - previous.total
            months = max((current.assessment_date - previous.assessment_date).days / DAYS_PER_MONTH, 1.0)
            when = f"since {previous.assessment_date:%d %b %Y} ({previous.total}/48 to {current.total}/48)"
            if change > max_rise:
                message = f"The total rose by {change} points {when}; ALS rarely improves. Check the items."
            elif -change > max_decline * months:
                rate = -change / months
                message = (
                    f"The total fell {rate:.1f} points a month {when}, faster than {max_decline:g}. Check the items."
                )
            else:
                continue
            found.append((current, Finding(IMPLAUSIBLE_JUMP, "total", message)))
    return found


@register(PNFH_WITHOUT_ASSAY, BiomarkerResult)
def pnfh_without_assay(rule: DataQualityRule, patient_ids: Sequence[int], today: dt.date) -> list[FoundOn]:
    """A CSF pNFH result whose assay names no assay ("unknown"), or, when the rule lists the
    recognised assays, none of them: the MIROCALS strata depend on the assay."""
    known = [str(name).strip().lower() for name in rule.parameter("known_assays", [])]
    results = BiomarkerResult.objects.filter(patient_id__in=list(patient_ids), analyte=Analyte.CSF_PNFH).only(
        "pk", "patient_id", "assay", "sample_date", "updated_at"
    )
    found: list[FoundOn] = []
    for result in results:
        assay = (result.assay or "").strip().lower()
        if assay in ASSAY_PLACEHOLDERS:
            message = f"The pNFH result of {result.sample_date:%d %b %Y} names no assay; its stratum depends on it."
        elif known and assay not in known:
            message = f"The assay “{result.assay}” is not one the registry recognises for pNFH; check its name."
        else:
            continue
        found.append((result, Finding(PNFH_WITHOUT_ASSAY, "assay", message)))
    return found
