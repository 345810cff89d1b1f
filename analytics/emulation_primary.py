"""The emulated trial's primary estimate, its Kaplan-Meier curve and its subgroups (docs/sap.md §2, §5).

The primary estimand compares MIROCALS-eligible patients from their first dose with the MIROCALS
placebo arm: deaths observed against those the arm's curve predicts, to 640 days (SMR, one-sample
log-rank). This module picks that arm among the run's benchmarks (a digitised curve when one is
loaded and is not test data, else the approximate one-proportion curve), computes the SMR for the
whole primary set and for the subgroups of the forest plot (route, pNFH stratum, sex, onset site,
age band), and gives the exact reference curve as cumulative-hazard points so that the analysis
package's R script can recompute the estimate. Pure pandas; labels are stored with the codes so
no page ever has to show a code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analytics.benchmark_spec import BenchmarkSpec
from analytics.stats import BenchmarkCurve, WeibullCurve, kaplan_meier, one_sample_logrank
from analytics.stats import caveats as cv
from analytics.stats.benchmark_arm import restrict_to
from analytics.stats.results import jsonable

PRIMARY_ARM = "placebo"
RISK_TIMES = (0, 160, 320, 480, 640)
"""Days at which the numbers at risk are printed beneath the Kaplan-Meier plots."""
AGE_BANDS = ((0, 50, "Under 50"), (50, 60, "50 to 59"), (60, 70, "60 to 69"), (70, 200, "70 and over"))
ROUTE_LABELS = {"managed_access": "Managed access (ILT-101)", "nhs_specials": "NHS Specials (Proleukin)"}
STRATUM_LABELS = {
    "below_750": "CSF pNFH below 750 pg/mL",
    "low": "CSF pNFH 750-3700 pg/mL",
    "high": "CSF pNFH above 3700 pg/mL",
    "missing": "No pre-dose CSF pNFH",
}
SUBGROUP_VARIABLES = ("route", "pnfh_stratum", "sex", "onset_site", "age_band")
VARIABLE_LABELS = {
    "route": "Access route",
    "pnfh_stratum": "CSF pNFH before first dose",
    "sex": "Sex",
    "onset_site": "Onset site",
    "age_band": "Age at enrolment",
}
DATASET_COLUMNS = (
    "route",
    "sex",
    "bulbar",
    "age_at_enrolment",
    "pnfh_pre_dose",
    "pnfh_stratum_t0",
    "eligible_t0",
    "os_days",
    "os_event",
    "os_days_h",
    "os_event_h",
    "comp_days",
    "comp_event",
)
"""Columns of the pseudonymised analysis dataset (days count from the first dose; no dates)."""


def primary_benchmark(benchmarks: Sequence[BenchmarkSpec]) -> BenchmarkSpec | None:
    """The placebo arm for all patients: a digitised, non-test curve first, else one proportion alive."""
    arms = [b for b in benchmarks if b.arm == PRIMARY_ARM and b.stratum == "all"]
    digitised = [b for b in arms if b.kind == "km_points" and len(b.points) >= 2 and not b.is_test]
    approximate = [b for b in arms if b.kind == "survival_at" and b.value and b.time_days and 0 < b.value < 1]
    chosen = digitised or approximate
    return chosen[0] if chosen else None


def reference_curve(spec: BenchmarkSpec) -> BenchmarkCurve | WeibullCurve:
    """The curve the primary SMR uses: log-linear between digitised points, or constant hazard
    through one proportion (Weibull shape 1, the reference of the approximate comparison)."""
    if spec.kind == "km_points":
        times, survival = zip(*sorted(spec.points), strict=True)
        return BenchmarkCurve(
            times, survival, "log-linear", "censor", label=spec.label, provenance=spec.provenance, source=spec.source
        )
    return WeibullCurve(
        float(spec.value or math.nan),
        float(spec.time_days or math.nan),
        1.0,
        label=spec.label,
        provenance=spec.provenance,
        source=spec.source,
    )


def cumulative_hazard_points(curve: BenchmarkCurve | WeibullCurve) -> list[list[float]]:
    """[[day, Λ(day)], ...] between which Λ is linear: exact for both kinds of reference curve."""
    times = curve.times if isinstance(curve, BenchmarkCurve) else (0.0, curve.tau)
    hazard = curve.cumulative_hazard(np.asarray(times, dtype=float))
    return [[float(t), float(h)] for t, h in zip(times, hazard, strict=True)]


def _stop(curve: BenchmarkCurve | WeibullCurve, horizon: float) -> float:
    return min(float(horizon), curve.horizon)


def _smr(data: pd.DataFrame, curve: BenchmarkCurve | WeibullCurve, stop: float, alpha: float) -> dict[str, Any]:
    cohort = restrict_to(data, "os_days", "os_event", stop)
    try:
        result = one_sample_logrank(cohort, "os_days", "os_event", None, curve, alpha=alpha)
    except ValueError as error:
        return {"error": str(error), "n": len(data), "events": 0}
    keys = ("n", "events", "observed", "expected", "smr", "smr_ci_lower", "smr_ci_upper", "p", "p_exact")
    return {key: jsonable(getattr(result, key)) for key in keys}


def subgroup_frame(data: pd.DataFrame) -> pd.DataFrame:
    """One column per forest-plot variable, holding each patient's subgroup label (missing kept)."""
    age = pd.to_numeric(data["age_at_enrolment"], errors="coerce")
    bands = pd.Series(pd.NA, index=data.index, dtype="object")
    for low, high, label in AGE_BANDS:
        bands[(age >= low) & (age < high)] = label
    bulbar = data["bulbar"]
    return pd.DataFrame(
        {
            "route": data["route"].map(ROUTE_LABELS),
            "pnfh_stratum": data["pnfh_stratum_t0"].map(STRATUM_LABELS),
            "sex": data["sex"].map({"male": "Male", "female": "Female"}),
            "onset_site": bulbar.map({1.0: "Bulbar onset", 0.0: "Spinal or other onset"}),
            "age_band": bands,
        },
        index=data.index,
    )


def _order(variable: str, labels: Sequence[str]) -> list[str]:
    canonical = {
        "route": list(ROUTE_LABELS.values()),
        "pnfh_stratum": list(STRATUM_LABELS.values()),
        "sex": ["Female", "Male"],
        "onset_site": ["Bulbar onset", "Spinal or other onset"],
        "age_band": [label for _, _, label in AGE_BANDS],
    }[variable]
    return [label for label in canonical if label in labels]


def subgroups(data: pd.DataFrame, curve: BenchmarkCurve | WeibullCurve, stop: float, alpha: float) -> list[dict]:
    """SMR against the primary arm within each subgroup of the primary set (unknown values left out)."""
    groups = subgroup_frame(data)
    rows = []
    for variable in SUBGROUP_VARIABLES:
        present = [str(v) for v in groups[variable].dropna().unique()]
        for label in _order(variable, present):
            subset = data[groups[variable] == label]
            rows.append({"variable": VARIABLE_LABELS[variable], "group": label, **_smr(subset, curve, stop, alpha)})
    return rows


def primary_analysis(
    primary: pd.DataFrame, benchmarks: Sequence[BenchmarkSpec], horizon: float, alpha: float
) -> dict[str, Any]:
    """The primary estimate, its KM curve with numbers at risk, and the subgroups of the forest plot."""
    spec = primary_benchmark(benchmarks)
    km = (
        kaplan_meier(
            primary,
            "os_days_h",
            "os_event_h",
            label="Primary set",
            times=(365, 640),
            risk_times=RISK_TIMES,
            alpha=alpha,
        )
        if len(primary)
        else None
    )
    out: dict[str, Any] = {
        "analysis_set": "primary",
        "n": len(primary),
        "km": jsonable(km.with_caveats(cv.REAL_WORLD_NON_RANDOMISED)) if km else None,
        "risk_times": list(RISK_TIMES),
    }
    if spec is None:
        return out | {"error": "no MIROCALS placebo-arm benchmark is loaded"}
    curve = reference_curve(spec)
    stop = _stop(curve, horizon)
    out |= {
        "benchmark": {
            "code": spec.code,
            "label": spec.label,
            "kind": spec.kind,
            "provenance": spec.provenance,
            "source": spec.source,
            "approximate": spec.kind != "km_points",
            "cumulative_hazard": cumulative_hazard_points(curve),
        },
        "stop_days": stop,
        "estimate": _smr(primary, curve, stop, alpha) if len(primary) else {"error": "no patient in the primary set"},
        "subgroups": subgroups(primary, curve, stop, alpha) if len(primary) else [],
    }
    return out


def analysis_dataset(cohort: pd.DataFrame) -> pd.DataFrame:
    """The pseudonymised analysis dataset of the package: dosed patients, days from first dose, no
    dates or study ids (rows are numbered in study-id order), flags for the analysis sets."""
    dosed = cohort[cohort["dosed_by_cutoff"]].sort_values("patient_id", kind="mergesort")
    out = dosed[list(DATASET_COLUMNS)].reset_index(drop=True)
    out.insert(0, "row", range(1, len(out) + 1))
    out.insert(1, "in_all_treated", dosed["followed"].to_numpy().astype(int))
    out.insert(2, "in_primary", (dosed["followed"] & dosed["eligible_t0"]).to_numpy().astype(int))
    out["eligible_t0"] = out["eligible_t0"].astype(int)
    for column in ("os_event", "os_event_h", "comp_event"):
        out[column] = out[column].astype("Int64")
    return out
