"""The full survival comparison suite, as a pure function of the analysis-ready dataset.

Input frames follow the dataset's column names (docs/dataset.md); benchmarks arrive as plain
`BenchmarkSpec` records (stored and versioned in the database by the Django layer). Nothing
here imports Django, so the suite can be run, tested and benchmarked on its own.

What it reports, each with n, events, a 95 % CI and caveats:
- Kaplan-Meier overall, by route and by CSF pNFH stratum (overall survival and the composite
  of death, tracheostomy or permanent ventilation), with median and survival at 365/640 days;
- log-rank tests between routes and between pNFH strata;
- Cox models for treated vs the registry's untreated comparator, unadjusted and adjusted for
  prognostic covariates, overall and within pNFH strata, beside the MIROCALS hazard ratios;
- one-sample log-rank (SMR) of treated patients against each benchmark survival curve;
- observed vs ENCALS-expected composite events, conditioned on survival to time origin;
- ALSFRS-R decline per month.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics import dataset, emulation
from analytics.benchmark_spec import BenchmarkSpec
from analytics.emulation_suite import emulation_dataset, run_emulation
from analytics.stats import (
    BenchmarkCurve,
    alsfrs_slope,
    cox,
    encals_inputs,
    encals_smr,
    get_caveats,
    kaplan_meier,
    logrank,
    one_sample_logrank,
)
from analytics.stats import caveats as cv
from analytics.stats.results import jsonable

DAYS_PER_MONTH = 365.25 / 12
TREATED_ROUTES = ("managed_access", "nhs_specials")
ROUTE_LABELS = {
    "managed_access": "Managed access (ILT-101)",
    "nhs_specials": "NHS Specials (Proleukin)",
    "none": "Untreated comparator",
}
STRATUM_LABELS = {"below_750": "pNFH < 750", "low": "pNFH 750-3700", "high": "pNFH > 3700", "missing": "pNFH missing"}
ENDPOINTS = {"os": ("os_time_days", "os_event"), "composite": ("composite_time_days", "composite_event")}
ADJUSTMENT_COVARIATES = ("age_at_enrolment", "male", "bulbar", "dfs_baseline", "svc_baseline", "log_pnfh")
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SuiteParameters:
    """What a run computes. ``data_cutoff`` (ISO date) censors follow-up administratively; the
    services set it to the run's date when none is given. ``imputations``: MI data sets (the SAP
    allows fewer in the nightly run than in a report)."""

    times: tuple[int, ...] = (365, 640)
    alpha: float = 0.05
    min_group_size: int = 10
    data_cutoff: str | None = None
    horizon_days: int = emulation.TRIAL_FOLLOW_UP_DAYS
    imputations: int = 10
    seed: int = 20250101
    sap_version: str = emulation.SAP_VERSION
    trial_ventilation_definition: str = "NIV > 22 h/day for > 7 days (registry event permanent_ventilation)"
    encals_ventilation_definition: str = "NIV > 23 h/day (ENCALS composite)"

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "times": list(self.times)}


@dataclass
class SuiteOutput:
    results: dict[str, Any] = field(default_factory=dict)
    dataset: pd.DataFrame | None = None
    """The pseudonymised analysis dataset of the emulation (for the run's archived package)."""


def prepare_patients(patients: pd.DataFrame) -> pd.DataFrame:
    """Add the model columns the suite needs (indicator and transformed covariates)."""
    df = patients.copy()
    df["treated"] = df["route"].isin(TREATED_ROUTES).astype(int)
    # Unknown sex or onset site stays missing (the Cox models then leave the patient out and
    # count them); it never becomes 0.
    sex = df["sex"].astype("string")
    df["male"] = (sex == "male").astype(float).where(sex.isin(["male", "female"]))
    df["bulbar"] = df["bulbar_onset"].astype("boolean").astype(float)
    pnfh = pd.to_numeric(df["csf_pnfh_baseline"], errors="coerce")
    df["log_pnfh"] = np.log(pnfh.where(pnfh > 0))
    for time_col, event_col in ENDPOINTS.values():
        df[time_col] = pd.to_numeric(df[time_col], errors="coerce")
        df[event_col] = df[event_col].astype("boolean").fillna(False).astype(int)
    return df[df["os_time_days"].notna() & (df["os_time_days"] >= 0)]


def _km_summary(df: pd.DataFrame, endpoint: str, label: str, params: SuiteParameters) -> dict[str, Any] | None:
    time_col, event_col = ENDPOINTS[endpoint]
    data = df[df[time_col].notna()]
    if data.empty:
        return None
    result = kaplan_meier(data, time_col, event_col, label=label, times=params.times, alpha=params.alpha)
    result = result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED)
    if len(data) < params.min_group_size:
        result = result.with_caveats(cv.SMALL_SAMPLE)
    return jsonable(result)


def _grouped_km(df: pd.DataFrame, column: str, labels: dict[str, str], params: SuiteParameters) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        out[endpoint] = {}
        for key, label in labels.items():
            summary = _km_summary(df[df[column] == key], endpoint, label, params)
            if summary is not None:
                out[endpoint][key] = summary
    return out


def _logrank(df: pd.DataFrame, column: str, keep: Sequence[str], endpoint: str) -> dict[str, Any] | None:
    time_col, event_col = ENDPOINTS[endpoint]
    data = df[df[column].isin(keep) & df[time_col].notna()]
    if data[column].nunique() < 2:
        return None
    return jsonable(logrank(data, time_col, event_col, column).with_caveats(cv.REAL_WORLD_NON_RANDOMISED))


def _cox_treated(df: pd.DataFrame, covariates: Sequence[str], params: SuiteParameters) -> dict[str, Any] | None:
    data = df[["os_time_days", "os_event", "treated", *covariates]].dropna()
    if data["treated"].nunique() < 2 or data["os_event"].sum() < 2 or len(data) < params.min_group_size:
        return None
    try:
        fitted = cox(data, "os_time_days", "os_event", ["treated", *covariates], alpha=params.alpha)
    except ValueError as error:  # non-convergence or a constant covariate: report, do not fail the suite
        return {"error": str(error), "n": len(data)}
    return jsonable(fitted.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING))


class _CoxFits:
    """Treated-vs-untreated Cox fits by (stratum, adjusted), each fitted once per run."""

    def __init__(self, df: pd.DataFrame, params: SuiteParameters) -> None:
        self.subsets = {"all": df, "low": df[df["pnfh_stratum"] == "low"], "high": df[df["pnfh_stratum"] == "high"]}
        self.params = params
        self.fits: dict[tuple[str, bool], dict[str, Any] | None] = {}

    def get(self, stratum: str, adjusted: bool) -> dict[str, Any] | None:
        if stratum not in self.subsets:  # never fall back to all patients for another stratum's benchmark
            return {"error": f"no registry estimate for the {stratum!r} stratum", "n": 0}
        key = (stratum, adjusted)
        if key not in self.fits:
            covariates = ADJUSTMENT_COVARIATES if adjusted else ()
            self.fits[key] = _cox_treated(self.subsets[key[0]], covariates, self.params)
        return self.fits[key]


def _hazard_ratio_rows(fits: _CoxFits, benchmarks: Sequence[BenchmarkSpec]) -> list[dict]:
    """Registry treated-vs-untreated hazard ratios beside each MIROCALS hazard ratio."""
    rows = []
    for spec in (b for b in benchmarks if b.kind == "hazard_ratio"):
        adjusted = spec.comparison == "adjusted"
        subset = fits.subsets.get(spec.stratum)
        fit = fits.get(spec.stratum, adjusted)
        registry: dict[str, Any] = {"n": 0 if subset is None else len(subset)}
        if fit and "terms" in fit:
            term = next(t for t in fit["terms"] if t["variable"] == "treated")
            registry = {
                "hr": term["hr"],
                "ci_lower": term["hr_ci_lower"],
                "ci_upper": term["hr_ci_upper"],
                "p": term["p"],
                "n": fit["n"],
                "events": fit["events"],
                "ph_test": fit.get("ph_test"),
            }
        elif fit:
            registry["error"] = fit.get("error")
        rows.append(
            {
                "benchmark": jsonable(spec),
                "registry": registry,
                "model": "Cox, adjusted for " + ", ".join(ADJUSTMENT_COVARIATES) if adjusted else "Cox, unadjusted",
                "caveats": jsonable(
                    get_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, _provenance_code(spec.provenance))
                ),
            }
        )
    return rows


def _provenance_code(provenance: str) -> str:
    return {
        "confirmed": cv.BENCHMARK_CONFIRMED,
        "secondary": cv.BENCHMARK_SECONDARY,
        "reconstructed": cv.BENCHMARK_RECONSTRUCTED,
    }.get(provenance, cv.BENCHMARK_UNCONFIRMED)


def benchmark_curve(spec: BenchmarkSpec) -> BenchmarkCurve | None:
    """A survival curve from a benchmark: digitised points (cumulative hazard joined linearly), or one
    S(t) as a constant hazard (approximate: the emulation shows it with a Weibull shape band)."""
    if spec.kind == "km_points" and spec.points:
        times, survival = zip(*sorted(spec.points), strict=True)
        return BenchmarkCurve(
            times,
            survival,
            interpolation="log-linear",
            extrapolation="censor",
            label=spec.label,
            provenance=spec.provenance,
            source=spec.source,
        )
    if spec.kind == "survival_at" and spec.value and spec.time_days and 0 < spec.value < 1:
        return BenchmarkCurve(
            (0.0, float(spec.time_days)),
            (1.0, float(spec.value)),
            interpolation="log-linear",
            extrapolation="censor",
            label=spec.label,
            provenance=spec.provenance,
            source=spec.source,
        )
    return None


def _one_sample_comparisons(df: pd.DataFrame, benchmarks: Sequence[BenchmarkSpec], params: SuiteParameters) -> list:
    treated = df[df["treated"] == 1]
    rows = []
    for spec in benchmarks:
        curve = benchmark_curve(spec)
        if curve is None:
            continue
        cohort = treated if spec.stratum == "all" else treated[treated["pnfh_stratum"] == spec.stratum]
        row: dict[str, Any] = {"benchmark": jsonable(spec), "cohort": f"treated, stratum {spec.stratum}"}
        try:
            result = one_sample_logrank(cohort, "os_time_days", "os_event", None, curve, alpha=params.alpha)
            row["result"] = jsonable(result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED))
        except ValueError as error:
            row["result"] = {"error": str(error), "n": len(cohort)}
        rows.append(row)
    return rows


def encals_predictors_frame(df: pd.DataFrame) -> pd.DataFrame:
    """ENCALS linear predictor per patient with all eight predictors; unknown FTD or C9orf72 is
    missing (never negative), so those patients are left out here and counted by the caller."""
    inputs = encals_inputs(df)
    data = df.assign(encals_lp=inputs.frame["lp"])
    data = data[data["encals_lp"].notna()]
    # Entry is months from onset to the time origin; the dataset's symptom duration (onset to
    # enrolment) stands in when the loader did not supply the exact onset-to-origin interval.
    entry = data["onset_to_origin_months"] if "onset_to_origin_months" in data else data["symptom_duration_months"]
    data["entry_months"] = entry.astype(float)
    data["exit_months"] = data["entry_months"] + data["composite_time_days"] / DAYS_PER_MONTH
    return data


def _encals(df: pd.DataFrame, params: SuiteParameters) -> dict[str, Any]:
    followed = df[df["composite_time_days"].notna() & df["symptom_duration_months"].notna()]
    # Zero follow-up (event or censoring on day 0) contributes no expected events; counted, not used.
    no_follow_up = int((followed["composite_time_days"] <= 0).sum())
    data = encals_predictors_frame(followed[followed["composite_time_days"] > 0])
    groups = {
        "all": data,
        **{f"route:{r}": data[data["route"] == r] for r in ROUTE_LABELS},
        **{f"stratum:{s}": data[data["pnfh_stratum"] == s] for s in STRATUM_LABELS},
    }
    out: dict[str, Any] = {
        "n_excluded_missing_predictors": int(len(followed) - no_follow_up - len(data)),
        "n_excluded_no_follow_up": no_follow_up,
        "groups": {},
    }
    for name, group in groups.items():
        if group.empty:
            continue
        result = encals_smr(group, "entry_months", "exit_months", "composite_event", "encals_lp", alpha=params.alpha)
        out["groups"][name] = jsonable(result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.VENTILATION_DEFINITION))
    return out


def _slopes(patients: pd.DataFrame, visits: pd.DataFrame, benchmarks: Sequence[BenchmarkSpec]) -> dict[str, Any]:
    if visits.empty:
        return {}
    origin = patients.set_index("patient_id")["time_origin_date"]
    data = visits[visits["patient_id"].isin(origin.index)].copy()
    data["months"] = (pd.to_datetime(data["assessment_date"]) - pd.to_datetime(data["patient_id"].map(origin))).dt.days
    # The dataset's one slope definition (alsfrs_r_slope_per_month): visits from 90 days before the
    # time origin on, months counted from the origin.
    data = data[data["months"] >= -dataset.ALSFRS_WINDOW_BEFORE_DAYS]
    data["months"] = data["months"] / DAYS_PER_MONTH
    route = patients.set_index("patient_id")["route"]
    out: dict[str, Any] = {"reference": [jsonable(b) for b in benchmarks if b.kind == "slope"], "groups": {}}
    for name, subset in {"all": data, **{r: data[data["patient_id"].map(route) == r] for r in ROUTE_LABELS}}.items():
        if subset["patient_id"].nunique() >= 2:
            result = alsfrs_slope(subset, "patient_id", "months", "total")
            # The per-patient slopes belong in the dataset, not in every run's stored results.
            result = dataclasses.replace(result, per_patient=result.per_patient.iloc[0:0])
            summary = jsonable(result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED))
            summary.pop("per_patient", None)
            out["groups"][name] = summary
    return out


def run_survival_suite(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    benchmarks: Sequence[BenchmarkSpec],
    params: SuiteParameters | None = None,
    progress: ProgressCallback | None = None,
    withheld_consent: int = 0,
) -> SuiteOutput:
    """Every comparison; ``withheld_consent`` counts patients left out because their consent
    refuses the use of their data (shown in the flow)."""
    params = params or SuiteParameters()
    steps = ["prepare", "kaplan_meier", "logrank", "cox", "one_sample", "encals", "slopes", "emulation"]

    def step(index: int) -> None:
        if progress:
            progress(index, len(steps), steps[index] if index < len(steps) else "done")

    out = SuiteOutput()
    step(0)
    df = prepare_patients(patients)
    out.results["parameters"] = params.as_dict()
    out.results["cohort"] = {
        "n": len(df),
        "os_events": int(df["os_event"].sum()),
        "composite_events": int(df["composite_event"].sum()),
        "by_route": {k: int(v) for k, v in df["route"].value_counts().items()},
        "by_stratum": {k: int(v) for k, v in df["pnfh_stratum"].value_counts().items()},
    }
    step(1)
    out.results["km"] = {
        "overall": {e: _km_summary(df, e, "All patients", params) for e in ENDPOINTS},
        "treated": {e: _km_summary(df[df["treated"] == 1], e, "Treated (IL-2LD)", params) for e in ENDPOINTS},
        "by_route": _grouped_km(df, "route", ROUTE_LABELS, params),
        "by_stratum": _grouped_km(df, "pnfh_stratum", STRATUM_LABELS, params),
    }
    step(2)
    out.results["logrank"] = {
        "routes": {e: _logrank(df, "route", list(ROUTE_LABELS), e) for e in ENDPOINTS},
        "treated_routes": {e: _logrank(df, "route", list(TREATED_ROUTES), e) for e in ENDPOINTS},
        "strata": {e: _logrank(df, "pnfh_stratum", ["below_750", "low", "high"], e) for e in ENDPOINTS},
    }
    step(3)
    fits = _CoxFits(df, params)
    out.results["cox"] = {
        "unadjusted": fits.get("all", adjusted=False),
        "adjusted": fits.get("all", adjusted=True),
        "trial_comparison": _hazard_ratio_rows(fits, benchmarks),
    }
    step(4)
    out.results["one_sample"] = _one_sample_comparisons(df, benchmarks, params)
    step(5)
    out.results["encals"] = _encals(df, params)
    step(6)
    out.results["slopes"] = _slopes(df, visits, benchmarks)
    out.results["caveats"] = jsonable(
        get_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, cv.IMMORTAL_TIME_BIAS, cv.LEFT_TRUNCATION)
    )
    out.results["benchmarks"] = [jsonable(b) for b in benchmarks]
    step(7)
    out.results["emulation"] = run_emulation(patients, benchmarks, params, withheld_consent)
    out.dataset = emulation_dataset(patients, params)
    step(8)
    return out


def benchmark_specs_from_results(results: dict[str, Any]) -> list[BenchmarkSpec]:
    """The benchmark records a run used, rebuilt from its stored results (for re-rendering)."""
    return [
        BenchmarkSpec(**{**b, "points": tuple(tuple(p) for p in b.get("points", ()))})
        for b in results.get("benchmarks", [])
    ]
