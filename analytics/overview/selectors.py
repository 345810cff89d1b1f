"""Reads behind the analysts' overview: enrolment, status, follow-up completeness, pNFH, last run.

No identifiers: only counts by route, site, month and stratum leave this module. A fixed number
of queries whatever the size of the registry (tests/analytics/test_overview.py pins them): one
row per patient (`cohort`), one per ALSFRS-R assessment, one per CSF pNFH result, and the last
analysis run; the counting is done in pandas, with the dataset's own rules (analytics.dataset).

Definitions (docs/dataset.md, "Overview dashboard"):

* **Status** on the day, first that applies: died (a death event); withdrawn (a withdrawal event
  or a withdrawn consent); lost to follow-up; not enrolled; untreated comparator (route none);
  awaiting first dose (treated route, no first dose yet); on treatment (a cycle started, or the
  first dose given, within the last two cycle lengths, 56 days); stopped treatment (otherwise).
* **Follow-up completeness**: an ALSFRS-R visit is expected at enrolment and every 91 days after
  (the three-monthly clinic schedule) until the end of follow-up (death, withdrawal, loss to
  follow-up, or today). A visit is done when an assessment falls within 45 days of its target
  date. Visits whose window has not closed yet count only when done.
* **pNFH availability**: the baseline CSF pNFH of the dataset (nearest to enrolment, 90 days
  before to 30 days after) in the MIROCALS strata, per route, for enrolled patients.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import OuterRef, Subquery

from access_programme.models import TreatmentCycle
from analytics import dataset
from analytics.survival.models import AnalysisRun, RunStatus
from registry import constants
from registry.models import AlsfrsrAssessment, BiomarkerResult, ClinicalEvent, ConsentWithdrawal, EventType, User
from registry.selectors import patients_visible_to, records_visible_to

#: ALSFRS-R is repeated about every three months (13 weeks) in MND clinics and in MIROCALS.
VISIT_INTERVAL_DAYS = constants.ALSFRSR_INTERVAL_DAYS
#: An assessment counts for a visit within this many days of its target date (half the interval).
VISIT_WINDOW_DAYS = 45
#: On treatment: a cycle started (or the first dose given) within two 28-day cycles.
ON_TREATMENT_WITHIN_DAYS = 2 * constants.CYCLE_LENGTH_DAYS

#: Status code -> label, in the order the dashboard lists them.
STATUSES: dict[str, str] = {
    "on_treatment": "On treatment",
    "stopped": "Stopped treatment",
    "died": "Died",
    "withdrawn": "Withdrawn",
    "lost": "Lost to follow-up",
    "awaiting_first_dose": "Enrolled, awaiting first dose",
    "untreated": "Untreated comparator (registry only)",
    "not_enrolled": "Not enrolled",
}
ROUTES: dict[str, str] = {
    "managed_access": "Managed access (ILT-101)",
    "nhs_specials": "NHS Specials (Proleukin)",
    "none": "Untreated comparator",
}
STRATA: dict[str, str] = {
    "below_750": "Below 750 pg/mL",
    "low": "Low, 750-3700 pg/mL",
    "high": "High, above 3700 pg/mL",
    "missing": "No baseline pNFH",
}


def _first(model: type[Any], field: str, **conditions: Any) -> Subquery:
    rows = model.objects.filter(patient=OuterRef("pk"), **conditions).order_by(field).values(field)[:1]
    return Subquery(rows)


def _last(model: type[Any], field: str) -> Subquery:
    return Subquery(model.objects.filter(patient=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])


COHORT_COLUMNS = [
    "pk",
    "site",
    "route",
    "enrolment_date",
    "first_dose_date",
    "death_date",
    "withdrawn_date",
    "lost_date",
    "last_cycle_start",
]


def cohort(user: User) -> pd.DataFrame:
    """One row per visible patient: site, route, dates of enrolment, first dose, death,
    withdrawal (event or consent, the earlier), loss to follow-up and last cycle (one query)."""
    rows = (
        patients_visible_to(user)
        .annotate(
            # not death_date: that is Patient's own method (the row's column is named below)
            died_on=_first(ClinicalEvent, "event_date", event_type=EventType.DEATH),
            withdrawal_event=_first(ClinicalEvent, "event_date", event_type=EventType.WITHDRAWAL),
            consent_withdrawn=_first(ConsentWithdrawal, "effective_on", level__gt="", correction__isnull=True),
            lost_date=_first(ClinicalEvent, "event_date", event_type=EventType.LOST_TO_FOLLOW_UP),
            last_cycle_start=_last(TreatmentCycle, "start_date"),
        )
        .order_by()
        .values_list(
            "pk",
            "site__code",
            "enrolment__route__code",
            "enrolment__enrolment_date",
            "enrolment__first_dose_date",
            "died_on",
            "withdrawal_event",
            "consent_withdrawn",
            "lost_date",
            "last_cycle_start",
        )
    )
    frame = pd.DataFrame(
        list(rows),
        columns=[*COHORT_COLUMNS[:6], "withdrawal_event", "consent_withdrawn", *COHORT_COLUMNS[7:]],
        dtype=object,
    )
    dates = ["enrolment_date", "first_dose_date", "death_date", "withdrawal_event", "consent_withdrawn", "lost_date"]
    for column in [*dates, "last_cycle_start"]:
        frame[column] = pd.to_datetime(frame[column])
    frame["withdrawn_date"] = frame[["withdrawal_event", "consent_withdrawn"]].min(axis=1)
    return frame[COHORT_COLUMNS]


def assessment_dates(user: User) -> pd.DataFrame:
    rows = records_visible_to(user, AlsfrsrAssessment).order_by().values_list("patient_id", "assessment_date")
    frame = pd.DataFrame(list(rows), columns=["pk", "date"], dtype=object)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def pnfh_results(user: User) -> pd.DataFrame:
    rows = (
        records_visible_to(user, BiomarkerResult)
        .filter(analyte="csf_pnfh")
        .order_by()
        .values_list("patient_id", "sample_date", "value")
    )
    frame = pd.DataFrame(list(rows), columns=["pk", "date", "value"], dtype=object)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["value"] = pd.to_numeric(frame["value"]).astype("float64")
    return frame


# ---- counting (pure, over the frames above) --------------------------------------------------------
def statuses(frame: pd.DataFrame, today: dt.date) -> pd.Series:
    """Each patient's status code (see the module's definitions)."""
    day = pd.Timestamp(today)
    recent = day - pd.Timedelta(days=ON_TREATMENT_WITHIN_DAYS)
    last_dose_start = frame["last_cycle_start"].fillna(frame["first_dose_date"])
    conditions = [
        frame["death_date"].notna(),
        frame["withdrawn_date"].notna(),
        frame["lost_date"].notna(),
        frame["enrolment_date"].isna(),
        frame["route"] == "none",
        frame["first_dose_date"].isna(),
        last_dose_start >= recent,
    ]
    choices = ["died", "withdrawn", "lost", "not_enrolled", "untreated", "awaiting_first_dose", "on_treatment"]
    return pd.Series(np.select(conditions, choices, default="stopped"), index=frame.index)


def status_counts(frame: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """status, label, patients: every status listed, with zero when none."""
    counts = statuses(frame, today).value_counts()
    return pd.DataFrame(
        {
            "status": list(STATUSES),
            "label": list(STATUSES.values()),
            "patients": [int(counts.get(code, 0)) for code in STATUSES],
        }
    )


def enrolment_by_month(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """month, `by` (route or site), enrolled, cumulative: every month from the first enrolment to
    the last, for every value of `by`, so that each series has a point a month."""
    enrolled = frame[frame["enrolment_date"].notna()]
    if enrolled.empty:
        return pd.DataFrame(columns=["month", by, "enrolled", "cumulative"])
    months = enrolled["enrolment_date"].dt.to_period("M")
    counts = enrolled.assign(month=months).groupby(["month", by]).size()
    every_month = pd.period_range(months.min(), months.max(), freq="M")
    keys = sorted(enrolled[by].dropna().unique())
    grid = counts.reindex(pd.MultiIndex.from_product([every_month, keys], names=["month", by]), fill_value=0)
    table = grid.rename("enrolled").reset_index()
    table["cumulative"] = table.groupby(by)["enrolled"].cumsum()
    table["month"] = table["month"].dt.to_timestamp().dt.date
    return table[["month", by, "enrolled", "cumulative"]]


def _follow_up_end(frame: pd.DataFrame, today: dt.date) -> pd.Series:
    ends = frame[["death_date", "withdrawn_date", "lost_date"]].min(axis=1)
    return ends.fillna(pd.Timestamp(today)).clip(upper=pd.Timestamp(today))


def visit_completeness(frame: pd.DataFrame, assessments: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """site, patients, expected, done, percent: ALSFRS-R visits (see the module's definitions),
    one row per site and a last row for all sites."""
    enrolled = frame[frame["enrolment_date"].notna()].set_index("pk")
    start = enrolled["enrolment_date"]
    end = _follow_up_end(enrolled, today)
    days = (end - start).dt.days.clip(lower=-1)
    closed = np.where(days >= VISIT_WINDOW_DAYS, (days - VISIT_WINDOW_DAYS) // VISIT_INTERVAL_DAYS + 1, 0)
    closed = pd.Series(closed, index=enrolled.index, dtype="int64")

    visits = assessments[assessments["pk"].isin(enrolled.index)].copy()
    visits["date"] = pd.to_datetime(visits["date"])
    visits["offset"] = (visits["date"] - visits["pk"].map(start)).dt.days
    visits = visits[(visits["offset"] >= -VISIT_WINDOW_DAYS) & (visits["date"] <= visits["pk"].map(end))]
    visits["visit"] = np.floor((visits["offset"] + VISIT_INTERVAL_DAYS / 2) / VISIT_INTERVAL_DAYS).astype("int64")
    hits = visits.drop_duplicates(["pk", "visit"])
    in_closed = hits["visit"] < hits["pk"].map(closed)
    done_closed = hits[in_closed].groupby("pk").size().reindex(enrolled.index, fill_value=0)
    done_open = hits[~in_closed].groupby("pk").size().reindex(enrolled.index, fill_value=0)

    per_patient = pd.DataFrame(
        {"site": enrolled["site"], "expected": closed + done_open, "done": done_closed + done_open}
    )
    by_site = per_patient.groupby("site").agg(
        patients=("expected", "size"), expected=("expected", "sum"), done=("done", "sum")
    )
    by_site.loc["All sites"] = [len(per_patient), per_patient["expected"].sum(), per_patient["done"].sum()]
    by_site["percent"] = (100 * by_site["done"] / by_site["expected"].where(by_site["expected"] > 0)).round(1)
    return by_site.reset_index().astype({"patients": "int64", "expected": "int64", "done": "int64"})


def pnfh_availability(frame: pd.DataFrame, pnfh: pd.DataFrame) -> pd.DataFrame:
    """route, stratum, label, patients: enrolled patients by route and baseline CSF pNFH stratum."""
    enrolled = frame[frame["enrolment_date"].notna()].set_index("pk")
    nearest = dataset.nearest_in_window(
        enrolled["enrolment_date"],
        pnfh,
        before_days=dataset.PNFH_WINDOW_BEFORE_DAYS,
        after_days=dataset.PNFH_WINDOW_AFTER_DAYS,
        value_col="value",
    ).reindex(enrolled.index)
    strata = dataset.pnfh_stratum(nearest["value"])
    counts = pd.DataFrame({"route": enrolled["route"], "stratum": strata}).groupby(["route", "stratum"]).size()
    routes = [code for code in ROUTES if code in set(enrolled["route"])]
    grid = counts.reindex(pd.MultiIndex.from_product([routes, list(STRATA)], names=["route", "stratum"]), fill_value=0)
    table = grid.rename("patients").reset_index()
    table["label"] = table["stratum"].map(STRATA)
    return table[["route", "stratum", "label", "patients"]]


# ---- the last analysis run ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LastRun:
    pk: int
    finished_at: dt.datetime
    data_cutoff: str | None
    read_at: dt.datetime | None


def last_analysis_run() -> LastRun | None:
    """The newest succeeded survival run: when it finished, and its data cut-off (one query).

    The cut-off is the run's `data_cutoff` parameter when it has one; older runs read the data as
    they stood when the run started (`read_at`).
    """
    run = (
        AnalysisRun.objects.filter(status=RunStatus.SUCCEEDED, finished_at__isnull=False)
        .order_by("-finished_at")
        .only("pk", "finished_at", "started_at", "parameters")
        .first()
    )
    if run is None or run.finished_at is None:
        return None
    cutoff = (run.parameters or {}).get("data_cutoff")
    return LastRun(run.pk, run.finished_at, str(cutoff) if cutoff else None, run.started_at)


@dataclass(frozen=True)
class Overview:
    today: dt.date
    patients: int
    statuses: pd.DataFrame
    enrolment_by_route: pd.DataFrame
    enrolment_by_site: pd.DataFrame
    completeness: pd.DataFrame
    pnfh: pd.DataFrame
    last_run: LastRun | None


def overview(user: User, today: dt.date) -> Overview:
    """Everything the dashboard shows, in five queries whatever the number of patients."""
    frame = cohort(user)
    return Overview(
        today=today,
        patients=len(frame),
        statuses=status_counts(frame, today),
        enrolment_by_route=enrolment_by_month(frame, "route"),
        enrolment_by_site=enrolment_by_month(frame, "site"),
        completeness=visit_completeness(frame, assessment_dates(user), today),
        pnfh=pnfh_availability(frame, pnfh_results(user)),
        last_run=last_analysis_run(),
    )
