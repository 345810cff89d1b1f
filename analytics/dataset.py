"""The analysis-ready dataset: pure derivations over pandas frames, and its declarative spec.

No Django here, so the survival analysis, notebooks and tests can reuse the same rules on
any frames with the documented input columns (see :func:`build_patient_dataset`).
`analytics.selectors` loads those frames from the database; `analytics.exports` writes them.

Every rule below is stated once in the column spec (:data:`PATIENT_COLUMNS`, in
`analytics.dataset_columns`), from which the data dictionary (CSV and Markdown) is generated,
and implemented once in this module.

Time rules (all in whole days between calendar dates):

* **Time origin** is the first dose (``first_dose_date``); patients with no first dose
  (registry-only comparators, or enrolled on a treatment route but never dosed) start at
  enrolment. Patients never enrolled have no origin and no survival times.
* **Last known alive** is the latest date on which the registry shows the patient alive: the
  latest of enrolment, first dose, every non-death clinical event (last known alive,
  withdrawal, lost to follow-up, NIV, gastrostomy, tracheostomy, permanent ventilation),
  ALSFRS-R assessments, biomarker samples, cycle dosing days (start + days administered − 1),
  dispensings, and adverse-event onset and resolution dates. Consent dates are not used
  (a signature may be a relative's).
* **Overall survival**: event = death; time = death − origin, or last known alive − origin.
* **Composite**: event = the first of death, tracheostomy or permanent ventilation on or after
  the origin; otherwise censored at last known alive. A patient whose tracheostomy or
  permanent ventilation precedes the origin was never at risk: both composite columns are empty.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.dataset_columns import _ITEMS as _ITEMS
from analytics.dataset_columns import DICTIONARY_FIELDS as DICTIONARY_FIELDS
from analytics.dataset_columns import LONG_TABLE_COLUMNS as LONG_TABLE_COLUMNS
from analytics.dataset_columns import PATIENT_COLUMN_NAMES as PATIENT_COLUMN_NAMES
from analytics.dataset_columns import PATIENT_COLUMNS as PATIENT_COLUMNS
from analytics.dataset_columns import TABLE_DESCRIPTIONS as TABLE_DESCRIPTIONS
from analytics.dataset_columns import TABLES as TABLES
from analytics.dataset_columns import Column as Column
from analytics.dataset_columns import dictionary_markdown as dictionary_markdown
from analytics.dataset_columns import dictionary_rows as dictionary_rows
from registry.constants import (
    CYCLE_LENGTH_DAYS,
    DAYS_PER_MONTH,
    PNFH_BELOW_LOW,
    PNFH_HIGH,
    PNFH_HIGH_ABOVE,
    PNFH_LOW,
    PNFH_LOW_FROM,
    PNFH_MISSING,
    PROTOCOL_MIU_PER_CYCLE,
)

ALSFRS_R_MAX = 48

#: CSF pNFH at baseline: nearest sample to enrolment, from 90 days before to 30 days after.
PNFH_WINDOW_BEFORE_DAYS = 90
PNFH_WINDOW_AFTER_DAYS = 30
#: Baseline ALSFRS-R: nearest assessment to the time origin, 90 days before to 14 days after.
ALSFRS_WINDOW_BEFORE_DAYS = 90
ALSFRS_WINDOW_AFTER_DAYS = 14
#: Ages use the date of birth where the identity holds it; else the year of birth, born 1 July.
ASSUMED_BIRTH_MONTH_DAY = (7, 1)
#: ALSFRS-R at diagnosis when none was recorded with it: the assessment nearest the diagnosis
#: date within this many days either side (docs/sap.md, ENCALS predictors).
DIAGNOSIS_ALSFRS_WINDOW_DAYS = 90

COMPOSITE_EVENT_TYPES = frozenset({"death", "tracheostomy", "permanent_ventilation"})


# ---- input frames -----------------------------------------------------------------------
#: Columns each input frame must have (extra columns are ignored).
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": (
        "pk",
        "patient_id",
        "site_code",
        "sex",
        "year_of_birth",
        "route",
        "enrolment_date",
        "first_dose_date",
        "meets_mirocals_criteria",
        "symptom_onset_date",
        "diagnosis_date",
        "onset_region",
        "el_escorial",
        "svc_percent",
        "fvc_percent",
        "alsfrsr_total_at_diagnosis",
        "date_of_birth",
        "c9orf72",
        "ftd",
    ),
    "alsfrs": ("pk", "date", "total"),
    "pnfh": ("pk", "date", "value"),
    "events": ("pk", "event_type", "date"),
    "cycles": ("pk", "start_date", "days_administered", "total_dose_miu"),
    "alive_dates": ("pk", "date"),
}


def _require(frame: pd.DataFrame, name: str) -> None:
    missing = [c for c in INPUT_COLUMNS[name] if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks columns: {', '.join(missing)}")


def _dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_dtype(series.dtype):
        # Already dates: to_datetime would give the same series, after converting a sample
        # of 10,000 values to Timestamps to decide whether to cache (~10 ms a call).
        return series
    return pd.to_datetime(series, errors="coerce")


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days.astype("Int64")


# ---- single rules, each usable on its own ----------------------------------------------
def age_in_whole_years(year_of_birth: pd.Series, on: pd.Series, date_of_birth: pd.Series | None = None) -> pd.Series:
    """Completed years from birth to a date: from the date of birth where the identity holds it,
    else from 1 July of the year of birth. Whole years only, so that with the dates the dataset
    carries, an analyst cannot narrow a birth date down (the dataset never holds one)."""
    on = _dates(on)
    month, day = ASSUMED_BIRTH_MONTH_DAY
    birth_month = pd.Series(month, index=on.index)
    birth_day = pd.Series(day, index=on.index)
    if date_of_birth is not None:
        born = _dates(date_of_birth)
        birth_month = born.dt.month.where(born.notna(), birth_month)
        birth_day = born.dt.day.where(born.notna(), birth_day)
    before_birthday = (on.dt.month < birth_month) | ((on.dt.month == birth_month) & (on.dt.day < birth_day))
    age = on.dt.year - pd.to_numeric(year_of_birth) - before_birthday.astype("Int64")
    return age.astype("Int64")


def months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return (_dates(end) - _dates(start)).dt.days / DAYS_PER_MONTH


def pnfh_stratum(values: pd.Series) -> pd.Series:
    """below_750 (< 750), low (750-3700 inclusive), high (> 3700), missing (no value)."""
    values = pd.to_numeric(values, errors="coerce")
    stratum = pd.Series(PNFH_MISSING, index=values.index, dtype="object")
    stratum[values < PNFH_LOW_FROM] = PNFH_BELOW_LOW
    stratum[(values >= PNFH_LOW_FROM) & (values <= PNFH_HIGH_ABOVE)] = PNFH_LOW
    stratum[values > PNFH_HIGH_ABOVE] = PNFH_HIGH
    return stratum


def nearest_in_window(
    anchors: pd.Series, records: pd.DataFrame, *, before_days: int, after_days: int, value_col: str
) -> pd.DataFrame:
    """Per patient, the record nearest its anchor date within [anchor − before, anchor + after].

    ``anchors`` is indexed by patient pk; ``records`` has pk, date and ``value_col``. On a tie
    (the same distance before and after) the earlier record wins: a pre-treatment value is the
    better baseline. Returns a frame indexed by pk with ``date`` and ``value_col``.
    """
    if records.empty:
        return pd.DataFrame(columns=["date", value_col]).rename_axis("pk")
    data = records[["pk", "date", value_col]].copy()
    data["date"] = _dates(data["date"])
    data["anchor"] = data["pk"].map(_dates(anchors))
    data = data.dropna(subset=["anchor", "date"])
    offset = (data["date"] - data["anchor"]).dt.days
    data = data[(offset >= -before_days) & (offset <= after_days)].assign(distance=offset.abs())
    data = data.sort_values(["pk", "distance", "date"], kind="mergesort")
    best = data.drop_duplicates("pk", keep="first").set_index("pk")
    return best[["date", value_col]]


def alsfrs_at_diagnosis(patients: pd.DataFrame, alsfrs: pd.DataFrame) -> pd.DataFrame:
    """Per patient (indexed by pk): the ALSFRS-R total at diagnosis and its date. The total
    recorded with the diagnosis wins; else the assessment nearest the diagnosis date within
    DIAGNOSIS_ALSFRS_WINDOW_DAYS either side; else empty (ENCALS then lacks ΔFS)."""
    diagnosed = _dates(patients["diagnosis_date"])
    nearest = nearest_in_window(
        diagnosed,
        alsfrs,
        before_days=DIAGNOSIS_ALSFRS_WINDOW_DAYS,
        after_days=DIAGNOSIS_ALSFRS_WINDOW_DAYS,
        value_col="total",
    ).reindex(patients.index)
    recorded = pd.to_numeric(patients["alsfrsr_total_at_diagnosis"]).astype("Float64")
    total = recorded.fillna(pd.to_numeric(nearest["total"]).astype("Float64"))
    when = diagnosed.where(recorded.notna(), _dates(nearest["date"]))
    return pd.DataFrame({"total": total, "date": when}, index=patients.index)


def delta_fs(total: pd.Series, onset: pd.Series, assessed: pd.Series) -> pd.Series:
    """(48 − total) / months from onset to the assessment; empty when months ≤ 0 (undefined)."""
    months = months_between(onset, assessed)
    result = (ALSFRS_R_MAX - pd.to_numeric(total)) / months.where(months > 0)
    return result.astype("float64")


def ols_slopes(visits: pd.DataFrame) -> pd.Series:
    """Per-patient OLS slope of total on months, vectorised; NaN with < 2 distinct dates.

    ``visits`` has pk, months, total. Centred sums keep it numerically stable.
    """
    if visits.empty:
        return pd.Series(dtype="float64")
    data = visits[["pk", "months", "total"]].dropna().astype({"months": "float64", "total": "float64"})
    grouped = data.groupby("pk")
    t_centred = data["months"] - grouped["months"].transform("mean")
    y_centred = data["total"] - grouped["total"].transform("mean")
    sxy = (t_centred * y_centred).groupby(data["pk"]).sum()
    sxx = (t_centred * t_centred).groupby(data["pk"]).sum()
    distinct = grouped["months"].nunique()
    slope = sxy / sxx.where(sxx > 0)
    return slope.where(distinct >= 2)


@dataclass(frozen=True)
class Outcomes:
    time_origin: pd.Series
    last_alive: pd.Series
    death: pd.Series
    composite: pd.Series
    composite_before_origin: pd.Series


def outcome_dates(patients: pd.DataFrame, events: pd.DataFrame, alive_dates: pd.DataFrame) -> Outcomes:
    """Origin, last known alive, death and first composite event dates, indexed by patient pk."""
    p = patients.set_index("pk")
    origin = _dates(p["first_dose_date"]).fillna(_dates(p["enrolment_date"]))
    ev = events.assign(date=_dates(events["date"]))
    death = ev[ev["event_type"] == "death"].groupby("pk")["date"].min().reindex(p.index)

    alive_candidates = [
        alive_dates.assign(date=_dates(alive_dates["date"]))[["pk", "date"]],
        ev[ev["event_type"] != "death"][["pk", "date"]],
        pd.DataFrame({"pk": p.index, "date": _dates(p["enrolment_date"]).to_numpy()}),
        pd.DataFrame({"pk": p.index, "date": _dates(p["first_dose_date"]).to_numpy()}),
    ]
    alive = pd.concat(alive_candidates, ignore_index=True).dropna()
    last_alive = alive.groupby("pk")["date"].max().reindex(p.index)
    # Nothing is recorded after death (model validation); cap in case of a same-day record.
    last_alive = last_alive.where(death.isna() | (last_alive <= death), death)

    comp = ev[ev["event_type"].isin(COMPOSITE_EVENT_TYPES)].copy()
    comp["origin"] = comp["pk"].map(origin)
    prior = comp[(comp["event_type"] != "death") & (comp["date"] < comp["origin"])]
    before_origin = pd.Series(p.index.isin(prior["pk"].unique()), index=p.index)
    first_comp = comp[comp["date"] >= comp["origin"]].groupby("pk")["date"].min().reindex(p.index)
    return Outcomes(origin, last_alive, death, first_comp, before_origin)


def dose_intensity(first_dose: pd.Series, end_of_follow_up: pd.Series, total_miu: pd.Series) -> pd.Series:
    """Total MIU given / (10 MIU × cycles planned from first dose to end of follow-up)."""
    days = (_dates(end_of_follow_up) - _dates(first_dose)).dt.days
    planned = np.floor(days.clip(lower=0) / CYCLE_LENGTH_DAYS) + 1
    return (pd.to_numeric(total_miu).fillna(0.0) / (PROTOCOL_MIU_PER_CYCLE * planned)).where(first_dose.notna())


# ---- the patient table -------------------------------------------------------------------
def build_patient_dataset(
    *,
    patients: pd.DataFrame,
    alsfrs: pd.DataFrame,
    pnfh: pd.DataFrame,
    events: pd.DataFrame,
    cycles: pd.DataFrame,
    alive_dates: pd.DataFrame,
) -> pd.DataFrame:
    """One row per patient with exactly :data:`PATIENT_COLUMN_NAMES`, in patient_id order.

    Input frames (``pk`` is any patient key shared by all frames; see :data:`INPUT_COLUMNS`):
    patients (one row each, with diagnosis and enrolment fields, NaN when absent); alsfrs
    (pk, date, total); pnfh (pk, date, value: CSF pNFH in pg/mL); events (pk, event_type,
    date); cycles (pk, start_date, days_administered, total_dose_miu); alive_dates (pk, date:
    any other dated record showing the patient alive).
    """
    for frame, name in (
        (patients, "patients"),
        (alsfrs, "alsfrs"),
        (pnfh, "pnfh"),
        (events, "events"),
        (cycles, "cycles"),
        (alive_dates, "alive_dates"),
    ):
        _require(frame, name)
    p = patients.set_index("pk", drop=False)
    out = pd.DataFrame(index=p.index)
    out["patient_id"] = p["patient_id"].astype("string")
    out["site_code"] = p["site_code"].astype("string")
    out["route"] = p["route"].astype("string")
    out["sex"] = p["sex"].astype("string")
    out["age_at_enrolment"] = age_in_whole_years(p["year_of_birth"], p["enrolment_date"])
    out["age_at_onset"] = age_in_whole_years(p["year_of_birth"], p["symptom_onset_date"], p["date_of_birth"])
    out["onset_region"] = p["onset_region"].astype("string")
    out["bulbar_onset"] = (p["onset_region"] == "bulbar").astype("boolean").where(p["onset_region"].notna())
    out["el_escorial"] = p["el_escorial"].astype("string")
    out["diagnostic_delay_months"] = months_between(p["symptom_onset_date"], p["diagnosis_date"]).round(2)
    out["symptom_duration_months"] = months_between(p["symptom_onset_date"], p["enrolment_date"]).round(2)

    outcomes = outcome_dates(patients, events, alive_dates)
    origin = outcomes.time_origin

    baseline = nearest_in_window(
        origin,
        alsfrs,
        before_days=ALSFRS_WINDOW_BEFORE_DAYS,
        after_days=ALSFRS_WINDOW_AFTER_DAYS,
        value_col="total",
    ).reindex(p.index)
    out["alsfrs_r_baseline"] = pd.to_numeric(baseline["total"]).astype("Int64")
    out["dfs_baseline"] = delta_fs(baseline["total"], p["symptom_onset_date"], baseline["date"]).round(4)
    out["svc_baseline"] = pd.to_numeric(p["svc_percent"]).astype("float64")
    at_diagnosis = alsfrs_at_diagnosis(p, alsfrs)
    out["alsfrs_r_diagnosis"] = at_diagnosis["total"].astype("Int64")
    out["dfs_diagnosis"] = delta_fs(at_diagnosis["total"], p["symptom_onset_date"], at_diagnosis["date"]).round(4)
    out["fvc_diagnosis"] = pd.to_numeric(p["fvc_percent"]).astype("float64")

    enrolment = _dates(p["enrolment_date"])
    nearest_pnfh = nearest_in_window(
        enrolment, pnfh, before_days=PNFH_WINDOW_BEFORE_DAYS, after_days=PNFH_WINDOW_AFTER_DAYS, value_col="value"
    ).reindex(p.index)
    out["csf_pnfh_baseline"] = pd.to_numeric(nearest_pnfh["value"]).astype("float64")
    out["pnfh_stratum"] = pnfh_stratum(out["csf_pnfh_baseline"]).astype("string")
    out["c9orf72"] = p["c9orf72"].replace("", pd.NA).astype("string")
    out["ftd"] = p["ftd"].replace("", pd.NA).astype("string")
    out["meets_mirocals_criteria"] = p["meets_mirocals_criteria"].astype("boolean")

    given = cycles[pd.to_numeric(cycles["days_administered"]) > 0]
    received = given.groupby("pk").size().reindex(p.index).fillna(0).astype("Int64")
    out["cycles_received"] = received.where(p["enrolment_date"].notna())
    total_miu = pd.to_numeric(cycles["total_dose_miu"]).groupby(cycles["pk"]).sum().reindex(p.index)
    end = outcomes.death.fillna(outcomes.last_alive)
    out["dose_intensity"] = dose_intensity(_dates(p["first_dose_date"]), end, total_miu).round(4)

    out["time_origin_date"] = origin.dt.date.astype(object).where(origin.notna(), None)
    died = outcomes.death.notna()
    out["os_time_days"] = _days(end, origin)
    out["os_event"] = died.astype("Int64").where(origin.notna())
    comp_end = outcomes.composite.fillna(outcomes.last_alive)
    at_risk = origin.notna() & ~outcomes.composite_before_origin
    out["composite_time_days"] = _days(comp_end, origin).where(at_risk)
    out["composite_event"] = outcomes.composite.notna().astype("Int64").where(at_risk)

    visits = alsfrs.assign(date=_dates(alsfrs["date"]))
    visits["origin"] = visits["pk"].map(origin)
    visits = visits[visits["date"] >= visits["origin"] - pd.Timedelta(days=ALSFRS_WINDOW_BEFORE_DAYS)]
    visits["months"] = (visits["date"] - visits["origin"]).dt.days / DAYS_PER_MONTH
    out["alsfrs_r_slope_per_month"] = ols_slopes(visits).reindex(p.index).round(4)

    out = out.sort_values("patient_id", kind="mergesort").reset_index(drop=True)
    return out[list(PATIENT_COLUMN_NAMES)]


# ---- the data dictionary (rows and Markdown: analytics.dataset_columns) ----------------------
def dictionary_frame(tables: Iterable[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(dictionary_rows(tables), columns=list(DICTIONARY_FIELDS))


def is_missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
