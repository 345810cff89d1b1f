"""The emulated trial's analyses (docs/sap.md §5-7) over the analysis sets of `analytics.emulation`.

* Against each benchmark arm: SMR, HR and RMST difference at 640 days (a digitised curve), or the
  approximate SMR with a Weibull shape band (a single proportion).
* Against ENCALS: observed vs expected composite events, complete case, with bounds for patients
  missing only yes/no predictors.
* Route vs route (both routes have a first dose): stabilised IPTW with balance, weighted KM and
  weighted Cox with robust SE, to 640 days and over all follow-up; the covariate-adjusted Cox model
  after the events-per-variable check, by multiple imputation and complete case.
* Tracheostomy or permanent ventilation with death competing (Aalen-Johansen).
Every HR and SMR has an E-value. Results are plain JSON (`jsonable`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.emulation import EmulationParameters
from analytics.stats import (
    DigitisedArm,
    compare_with_arm,
    compare_with_proportion,
    cox,
    cox_multiple_imputation,
    cumulative_incidence,
    e_value,
    encals_inputs,
    encals_smr,
    events_per_variable,
    iptw,
    kaplan_meier,
    smr_from_counts,
)
from analytics.stats import caveats as cv
from analytics.stats.encals import cumulative_hazard_vector
from analytics.stats.evalue import is_common
from analytics.stats.results import jsonable
from registry.constants import DAYS_PER_MONTH

COX_COVARIATES = (
    "age_at_enrolment",
    "male",
    "bulbar",
    "disease_duration_months",
    "diagnostic_delay_months",
    "dfs_baseline",
    "svc_baseline",
    "log_pnfh",
)
"""Adjustment set of issue 13, in the SAP's priority order (the EPV check drops from the end)."""
PS_COVARIATES = COX_COVARIATES[:-1]
"""Propensity model: the adjustment set without pNFH, which is missing too often to weight on."""
INDEX_ROUTE = "nhs_specials"
"""Route vs route: NHS Specials (index, 1) against managed access (reference, 0)."""


@dataclass(frozen=True)
class BenchmarkInput:
    """A benchmark arm for the emulation: a digitised arm, or one proportion alive at a time."""

    code: str
    label: str
    stratum: str
    provenance: str
    source: str
    arm: DigitisedArm | None = None
    survival_at: float | None = None
    time_days: float | None = None


def _error(message: str, n: int) -> dict[str, Any]:
    return {"error": message, "n": int(n)}


def benchmark_comparisons(
    sets: dict[str, pd.DataFrame], benchmarks: Sequence[BenchmarkInput], params: EmulationParameters, alpha: float
) -> list[dict[str, Any]]:
    rows = []
    for spec in benchmarks:
        for set_name, data in sets.items():
            cohort = data if spec.stratum == "all" else data[data["pnfh_stratum_t0"] == spec.stratum]
            row: dict[str, Any] = {"benchmark": spec.code, "label": spec.label, "analysis_set": set_name}
            row["stratum"] = spec.stratum
            if cohort.empty:
                row["result"] = _error("no patients in this analysis set and stratum", 0)
            elif spec.arm is not None:
                row["kind"] = "curve"
                row["result"] = jsonable(
                    compare_with_arm(cohort, "os_days", "os_event", spec.arm, tau=params.horizon_days, alpha=alpha)
                )
            else:
                row["kind"] = "approximate"
                result = compare_with_proportion(
                    cohort,
                    "os_days",
                    "os_event",
                    float(spec.survival_at or math.nan),
                    float(spec.time_days or params.horizon_days),
                    spec.label,
                    provenance=spec.provenance,
                    source=spec.source,
                    tau=params.horizon_days,
                    alpha=alpha,
                )
                row["result"] = jsonable(result)
            rows.append(row)
    return rows


def _oe(data: pd.DataFrame, lp_col: str, alpha: float) -> dict[str, Any]:
    subset = data[data[lp_col].notna()]
    if subset.empty:
        return _error("no patient has the predictors", 0)
    result = encals_smr(subset, "entry_months", "exit_months", "comp_event", lp_col, alpha=alpha)
    result = result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.VENTILATION_DEFINITION)
    out = jsonable(result)
    if result.observed > 0:
        out["e_value"] = jsonable(
            e_value(
                result.smr, result.smr_ci_lower, result.smr_ci_upper, measure="smr", n=result.n, events=result.events
            )
        )
    return out


def encals_comparison(data: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """ENCALS O/E of the composite from first dose (conditional on survival to it), to the cut-off."""
    at_risk = data[data["comp_days"].notna() & (data["comp_days"] > 0) & data["disease_duration_months"].notna()]
    inputs = encals_inputs(at_risk)
    frame = at_risk.join(inputs.frame[["lp", "lp_low", "lp_high"]])
    frame["entry_months"] = frame["disease_duration_months"].astype(float)
    frame["exit_months"] = frame["entry_months"] + frame["comp_days"] / DAYS_PER_MONTH
    out: dict[str, Any] = {
        "n": len(data),
        "n_excluded_no_follow_up_or_onset": len(data) - len(at_risk),
        "predictors": jsonable(inputs),
        "complete_case": _oe(frame, "lp", alpha),
    }
    bounded = frame[frame["lp_low"].notna()]
    if not bounded.empty:
        observed = int(bounded["comp_event"].sum())
        expected = {
            name: float(
                np.sum(
                    cumulative_hazard_vector(bounded["exit_months"].to_numpy(), bounded[name].to_numpy())
                    - cumulative_hazard_vector(bounded["entry_months"].to_numpy(), bounded[name].to_numpy())
                )
            )
            for name in ("lp_low", "lp_high")
        }
        out["missing_flags_bounds"] = {
            "n": len(bounded),
            "observed": observed,
            "flags_at_0": jsonable(
                smr_from_counts(observed, expected["lp_low"], len(bounded), "ENCALS, flags 0", alpha)
            ),
            "flags_at_1": jsonable(
                smr_from_counts(observed, expected["lp_high"], len(bounded), "ENCALS, flags 1", alpha)
            ),
        }
    return out


def _outcome_common(data: pd.DataFrame, days: str = "os_days_h", event: str = "os_event_h") -> bool:
    """Whether death is common (> 15 %) by the end of follow-up: 1 − KM at its last time."""
    km = kaplan_meier(data, days, event)
    return is_common(float(1 - km.timeline["survival"].iloc[-1]))


def _hr_with_e_value(fit: Any, variable: str, common: bool) -> dict[str, Any]:
    term = fit.term(variable)
    out = jsonable(term)
    out.update(n=fit.n, events=fit.events)
    out["e_value"] = jsonable(
        e_value(term.hr, term.hr_ci_lower, term.hr_ci_upper, common_outcome=common, n=fit.n, events=fit.events)
    )
    return out


def _weighted(data: pd.DataFrame, weights: np.ndarray, alpha: float, params: EmulationParameters) -> dict[str, Any]:
    frame = data.assign(iptw=weights, index_route=(data["route"] == INDEX_ROUTE).astype(int))
    out: dict[str, Any] = {"km": {}, "cox": {}}
    for route, group in frame.groupby("route"):
        out["km"][str(route)] = jsonable(
            kaplan_meier(
                group, "os_days_h", "os_event_h", label=str(route), times=(365, 640), alpha=alpha, weights_col="iptw"
            )
        )
    common = _outcome_common(frame)
    for name, (days, event) in {
        "to_640_days": ("os_days_h", "os_event_h"),
        "all_follow_up": ("os_days", "os_event"),
    }.items():
        fit = cox(frame, days, event, ["index_route"], weights_col="iptw", robust=True, alpha=alpha, concordance=False)
        out["cox"][name] = _hr_with_e_value(fit.with_caveats(cv.IPTW), "index_route", common)
    return out


def route_comparison(
    data: pd.DataFrame, params: EmulationParameters, alpha: float, m: int, seed: int
) -> dict[str, Any]:
    """NHS Specials vs managed access, both from the first dose, within one analysis set."""
    data = data[data["route"].isin([INDEX_ROUTE, "managed_access"])]
    counts = data["route"].value_counts()
    if len(counts) < 2 or counts.min() < 10:
        return _error("each route needs at least 10 patients for a route-vs-route comparison", len(data))
    out: dict[str, Any] = {"index": INDEX_ROUTE, "reference": "managed_access", "n": len(data)}
    complete = data.dropna(subset=list(PS_COVARIATES))
    out["propensity_excluded_missing"] = len(data) - len(complete)
    try:
        weights = iptw(
            complete.assign(index_route=(complete["route"] == INDEX_ROUTE).astype(int)), "index_route", PS_COVARIATES
        )
        out["iptw"] = jsonable(weights)
        out["weighted"] = _weighted(complete, weights.weights, alpha, params)
    except ValueError as error:  # separation or a constant covariate: reported, the run goes on
        out["iptw"] = _error(str(error), len(complete))
    frame = data.assign(index_route=(data["route"] == INDEX_ROUTE).astype(int))
    epv = events_per_variable(int(frame["os_event_h"].sum()), COX_COVARIATES, forced=["index_route"], n=len(frame))
    out["events_per_variable"] = jsonable(epv)
    kept = [c for c in epv.kept if c != "index_route"]
    common = _outcome_common(frame)
    try:
        cc = cox(frame, "os_days_h", "os_event_h", epv.kept, alpha=alpha).with_caveats(cv.COMPLETE_CASE)
        out["adjusted_complete_case"] = _hr_with_e_value(cc, "index_route", common) | {
            "n_excluded_missing": cc.n_excluded_missing
        }
        mi = cox_multiple_imputation(
            frame, "os_days_h", "os_event_h", ["index_route", *kept], m=m, seed=seed, alpha=alpha
        )
        term = mi.term("index_route")
        out["adjusted_imputed"] = jsonable(mi) | {
            "e_value": jsonable(
                e_value(term.hr, term.hr_ci_lower, term.hr_ci_upper, common_outcome=common, n=mi.n, events=mi.events)
            )
        }
    except ValueError as error:
        out["adjusted_error"] = str(error)
    return out


def competing_events(data: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """Cumulative incidence of tracheostomy or permanent ventilation with death competing, to 640 days."""
    out = {}
    for name, group in {"all": data, **{str(k): g for k, g in data.groupby("route")}}.items():
        frame = group[group["comp_days_h"].notna()]
        if frame.empty:
            continue
        result = cumulative_incidence(
            frame,
            "comp_days_h",
            "comp_cause_h",
            censored="censored",
            causes=["ventilation", "death"],
            times=(365, 640),
            label=name,
            alpha=alpha,
        )
        summary = jsonable(result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED))
        for curve in summary["curves"]:
            curve.pop("timeline")  # the stored run keeps the summaries; the curve is recomputed on demand
        out[name] = summary
    return out
