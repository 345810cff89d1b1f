"""Target-trial emulation of MIROCALS in the registry: analysis sets, patient flow and Table 1.

The protocol is docs/sap.md (its version is ``SAP_VERSION``, stored with every run). Pure
pandas over the analysis dataset plus the columns `analytics.survival.services` adds (first dose,
enrolment, onset and riluzole dates, year of birth, pre-dose pNFH); no Django.

* Time zero is the first dose. Patients never dosed have no time zero: they appear in the flow,
  never in a treated analysis.
* Eligibility is evaluated at time zero with the thresholds of `access_programme.eligibility`
  (one place for the criteria): age 18 to under 76, symptoms ≤ 24 months, SVC ≥ 70 %, El Escorial
  category, riluzole started on or before the first dose. The trial's 12-18-week riluzole run-in
  is emulated as reported, not required: eligible patients with less than 12 weeks of riluzole
  are counted.
* Follow-up is censored at the data cut-off (a run parameter) and, for the trial comparison, at
  640 days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from access_programme.eligibility import (
    ELIGIBLE_EL_ESCORIAL,
    MAX_AGE_EXCLUSIVE,
    MAX_SYMPTOM_MONTHS,
    MIN_AGE,
    MIN_SVC_PERCENT,
)
from registry.constants import DAYS_PER_MONTH, PNFH_HIGH_ABOVE, PNFH_LOW_FROM, TRIAL_FOLLOW_UP_DAYS

SAP_VERSION = "1.1"
"""Version of docs/sap.md that this code implements; recorded in every run's parameters."""
TREATED_ROUTES = ("managed_access", "nhs_specials")
RILUZOLE_RUN_IN_DAYS = 84
"""MIROCALS randomised after a 12-18-week riluzole run-in: 12 weeks is the emulated minimum."""
PNFH_PRE_DOSE_WINDOW_DAYS = 90
"""Baseline CSF pNFH: the sample nearest the first dose among those 0-90 days before it."""
MIROCALS_BASELINE = {"age_median": 60.0, "male_percent": 62.0}
"""The only MIROCALS baseline figures known here (secondary: medwireNews 2025); Table 1 shows them."""
CRITERIA = {
    "age": "age outside 18 to under 76 at first dose",
    "age_unknown": "age unknown",
    "symptom_duration": "symptom duration over 24 months at first dose",
    "symptom_duration_unknown": "symptom onset date unknown",
    "svc": "SVC below 70 % predicted",
    "svc_unknown": "SVC not recorded",
    "el_escorial": "El Escorial category not possible, probable or definite",
    "riluzole": "not on riluzole at first dose",
}


@dataclass(frozen=True)
class EmulationParameters:
    data_cutoff: dt.date
    horizon_days: int = TRIAL_FOLLOW_UP_DAYS
    riluzole_run_in_days: int = RILUZOLE_RUN_IN_DAYS
    sap_version: str = SAP_VERSION


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce")


def unmet_at_time_zero(df: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per MIROCALS criterion, True where a dosed patient fails it at first dose.

    Vectorised twin of `access_programme.eligibility.unmet_mirocals_criteria` evaluated on the
    first-dose date; age from the year of birth as `eligibility_input` computes it without a birth
    date (year of the date − year of birth − 1).
    """
    dose = _dates(df["first_dose_date"])
    age = dose.dt.year - pd.to_numeric(df["year_of_birth"], errors="coerce") - 1
    months = ((dose - _dates(df["symptom_onset_date"])).dt.days / DAYS_PER_MONTH).round(1)
    svc = pd.to_numeric(df["svc_baseline"], errors="coerce")
    riluzole = _dates(df["riluzole_start_date"])
    out = pd.DataFrame(index=df.index)
    out["age_unknown"] = age.isna()
    out["age"] = age.notna() & ((age < MIN_AGE) | (age >= MAX_AGE_EXCLUSIVE))
    out["symptom_duration_unknown"] = months.isna()
    out["symptom_duration"] = months.notna() & (months > float(MAX_SYMPTOM_MONTHS))
    out["svc_unknown"] = svc.isna()
    out["svc"] = svc.notna() & (svc < float(MIN_SVC_PERCENT))
    out["el_escorial"] = ~df["el_escorial"].isin(ELIGIBLE_EL_ESCORIAL)
    out["riluzole"] = riluzole.isna() | (riluzole > dose)
    return out.where(dose.notna(), False)


def _censor(days: pd.Series, event: pd.Series, limit: pd.Series | float) -> tuple[pd.Series, pd.Series]:
    """Administrative censoring at ``limit`` days after time zero."""
    days = pd.to_numeric(days, errors="coerce").astype(float)
    event = pd.to_numeric(event, errors="coerce").astype(float)
    beyond = days > limit
    return days.where(~beyond, limit), event.where(~beyond, 0.0)


def pre_dose_samples(first_dose: pd.Series, samples: pd.DataFrame) -> pd.DataFrame:
    """Per patient, the sample nearest the first dose among those 0-90 days before it (same day
    included: samples are taken before the injection). ``first_dose`` is indexed by patient key;
    ``samples`` has pk, date, value, assay. Returns value and assay indexed by pk."""
    if samples.empty:
        return pd.DataFrame(columns=["value", "assay"]).rename_axis("pk")
    data = samples[["pk", "date", "value", "assay"]].copy()
    data["anchor"] = data["pk"].map(_dates(first_dose))
    offset = (_dates(data["date"]) - data["anchor"]).dt.days
    data = data[(offset <= 0) & (offset >= -PNFH_PRE_DOSE_WINDOW_DAYS)].assign(distance=-offset)
    data = data.sort_values(["pk", "distance", "date"], kind="mergesort").drop_duplicates("pk", keep="first")
    return data.set_index("pk")[["value", "assay"]]


def prepare_cohort(df: pd.DataFrame, params: EmulationParameters) -> pd.DataFrame:
    """The dataset with the emulation's columns: dosed, eligibility at time zero, censored outcomes.

    Outcome columns (days from first dose, censored at the cut-off): os_days/os_event,
    comp_days/comp_event and comp_cause ("death" or "ventilation": tracheostomy or permanent
    ventilation; a same-day tie counts as death); with the 640-day restriction: os_days_h,
    os_event_h, comp_days_h, comp_event_h, comp_cause_h. Covariates are missing when unknown,
    never 0: male, bulbar, log_pnfh (pre-dose sample).
    """
    out = df.copy()
    dose = _dates(out["first_dose_date"])
    cutoff = pd.Timestamp(params.data_cutoff)
    out["dosed"] = out["route"].isin(TREATED_ROUTES) & dose.notna()
    out["dosed_by_cutoff"] = out["dosed"] & (dose <= cutoff)
    unmet = unmet_at_time_zero(out)
    for code in CRITERIA:
        out[f"unmet_{code}"] = unmet[code]
    out["eligible_t0"] = out["dosed"] & ~unmet.any(axis=1)
    riluzole_days = (dose - _dates(out["riluzole_start_date"])).dt.days
    out["riluzole_days_t0"] = riluzole_days.where(out["dosed"])
    out["short_run_in"] = out["eligible_t0"] & (riluzole_days < params.riluzole_run_in_days)
    to_cutoff = (cutoff - dose).dt.days.astype(float)
    out["os_days"], out["os_event"] = _censor(out["os_time_days"], out["os_event"], to_cutoff)
    out["comp_days"], out["comp_event"] = _censor(out["composite_time_days"], out["composite_event"], to_cutoff)
    death_first = (out["os_event"] == 1) & (out["os_days"] == out["comp_days"])
    out["comp_cause"] = np.where(out["comp_event"] == 1, np.where(death_first, "death", "ventilation"), "censored")
    horizon = float(params.horizon_days)
    out["os_days_h"], out["os_event_h"] = _censor(out["os_days"], out["os_event"], horizon)
    out["comp_days_h"], out["comp_event_h"] = _censor(out["comp_days"], out["comp_event"], horizon)
    out["comp_cause_h"] = np.where(out["comp_event_h"] == 1, out["comp_cause"], "censored")
    out["followed"] = out["dosed_by_cutoff"] & (out["os_days"] > 0)
    sex = out["sex"].astype("string")
    out["male"] = (sex == "male").astype(float).where(sex.isin(["male", "female"]))
    out["bulbar"] = out["bulbar_onset"].astype("boolean").astype(float)
    out["disease_duration_months"] = pd.to_numeric(out["onset_to_origin_months"], errors="coerce").where(out["dosed"])
    pnfh = pd.to_numeric(out["pnfh_pre_dose"], errors="coerce")
    out["log_pnfh"] = np.log(pnfh.where(pnfh > 0))
    out["pnfh_stratum_t0"] = np.select(
        [pnfh.isna(), pnfh < PNFH_LOW_FROM, pnfh <= PNFH_HIGH_ABOVE], ["missing", "below_750", "low"], "high"
    )
    return out


def analysis_sets(cohort: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Primary: MIROCALS-eligible at first dose, dosed by the cut-off, with follow-up. Secondary: all treated."""
    analysed = cohort[cohort["followed"]]
    return {"primary": analysed[analysed["eligible_t0"]], "all_treated": analysed}


def _step(step: str, n: int, excluded: list[tuple[str, int]]) -> dict[str, Any]:
    return {"step": step, "n": int(n), "excluded": [{"reason": r, "n": int(k)} for r, k in excluded if k]}


def patient_flow(cohort: pd.DataFrame, withheld: int = 0) -> list[dict[str, Any]]:
    """RECORD-PE / STROBE flow: counts and reasons at each step to the primary analysis set.

    ``withheld`` counts patients whose consent refuses the use of their data: they are not in
    the dataset at all and appear here only as a number.
    """
    enrolled = cohort[cohort["route"].notna()]
    on_route = enrolled[enrolled["route"].isin(TREATED_ROUTES)]
    dosed = on_route[on_route["dosed"]]
    by_cutoff = dosed[dosed["dosed_by_cutoff"]]
    followed = by_cutoff[by_cutoff["followed"]]
    eligible = followed[followed["eligible_t0"]]
    ineligible = followed[~followed["eligible_t0"]]
    reasons = [(text, int(ineligible[f"unmet_{code}"].sum())) for code, text in CRITERIA.items()]
    return [
        _step("Patients in the registry", len(cohort) + withheld, []),
        _step("Patients whose data may be used", len(cohort), [("consent refuses use of data", withheld)]),
        _step(
            "Enrolled in an access route or as a comparator",
            len(enrolled),
            [("not enrolled", len(cohort) - len(enrolled))],
        ),
        _step(
            "Enrolled on a treatment route",
            len(on_route),
            [("registry-only comparator (no treatment, no time zero)", len(enrolled) - len(on_route))],
        ),
        _step("Dosed (time zero = first dose)", len(dosed), [("never dosed", len(on_route) - len(dosed))]),
        _step(
            "First dose on or before the data cut-off",
            len(by_cutoff),
            [("first dose after the cut-off", len(dosed) - len(by_cutoff))],
        ),
        _step(
            "Followed after time zero (all treated set)",
            len(followed),
            [("no follow-up after the first dose", len(by_cutoff) - len(followed))],
        ),
        {
            **_step("MIROCALS-eligible at first dose (primary set)", len(eligible), reasons),
            "n_not_eligible": len(ineligible),
            "note": "A patient can fail several criteria; each reason counts the patients failing it.",
            "riluzole_run_in_shorter_than_12_weeks": int(eligible["short_run_in"].sum()),
        },
    ]


def _median_iqr(values: pd.Series) -> dict[str, Any]:
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        return {"median": None, "q1": None, "q3": None, "n": 0, "missing": int(values.isna().sum())}
    q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
    return {
        "median": float(med),
        "q1": float(q1),
        "q3": float(q3),
        "n": int(v.size),
        "missing": int(values.isna().sum()),
    }


def _share(values: pd.Series, positive: Any) -> dict[str, Any]:
    known = values.dropna()
    k = int((known == positive).sum())
    return {
        "n": k,
        "of": int(known.size),
        "percent": 100 * k / known.size if known.size else None,
        "missing": int(values.isna().sum()),
    }


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.fillna("missing").astype(str).value_counts().sort_index().items()}


TABLE_ONE_ROWS = (
    ("Age at enrolment, years", "age_at_enrolment", "median"),
    ("Male", "male", 1.0),
    ("Bulbar onset", "bulbar", 1.0),
    ("Disease duration at first dose, months", "disease_duration_months", "median"),
    ("Diagnostic delay, months", "diagnostic_delay_months", "median"),
    ("ALSFRS-R at first dose", "alsfrs_r_baseline", "median"),
    ("ΔFS at first dose, points/month", "dfs_baseline", "median"),
    ("SVC, % predicted", "svc_baseline", "median"),
    ("FVC, % predicted", "fvc_diagnosis", "median"),
    ("CSF pNFH before first dose, pg/mL", "pnfh_pre_dose", "median"),
    ("CSF pNFH stratum (pre-dose sample)", "pnfh_stratum_t0", "counts"),
    ("pNFH assay", "pnfh_pre_dose_assay", "counts"),
    ("El Escorial", "el_escorial", "counts"),
    ("C9orf72", "c9orf72", "counts"),
    ("FTD", "ftd", "counts"),
    ("Riluzole before first dose, days", "riluzole_days_t0", "median"),
)


def table_one(data: pd.DataFrame, group_col: str = "route") -> dict[str, Any]:
    """Baseline characteristics by route (and overall), beside the MIROCALS values known here."""
    groups = {"all": data, **{str(k): g for k, g in data.groupby(group_col, sort=True)}}
    rows = []
    for label, column, kind in TABLE_ONE_ROWS:
        cells = {}
        for name, g in groups.items():
            if kind == "median":
                cells[name] = _median_iqr(g[column])
            elif kind == "counts":
                cells[name] = _counts(g[column])
            else:
                cells[name] = _share(g[column], kind)
        mirocals = {
            "Age at enrolment, years": MIROCALS_BASELINE["age_median"],
            "Male": MIROCALS_BASELINE["male_percent"],
        }
        rows.append({"characteristic": label, "column": column, "groups": cells, "mirocals": mirocals.get(label)})
    return {
        "groups": {name: len(g) for name, g in groups.items()},
        "rows": rows,
        "mirocals_source": (
            "MIROCALS baseline: median age 60, 62 % men (secondary: medwireNews 2025); its Table 1 is not available"
        ),
    }
