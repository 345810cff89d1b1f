"""The emulation step of the survival suite: benchmarks converted, the protocol run, JSON out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from analytics import emulation, emulation_analyses, emulation_primary
from analytics.benchmark_spec import BenchmarkSpec
from analytics.stats import DigitisedArm

EMULATION_COLUMNS = (
    "first_dose_date",
    "year_of_birth",
    "symptom_onset_date",
    "riluzole_start_date",
    "onset_to_origin_months",
    "pnfh_pre_dose",
    "pnfh_pre_dose_assay",
)


def benchmark_inputs(benchmarks: Sequence[BenchmarkSpec]) -> list[emulation_analyses.BenchmarkInput]:
    """Survival benchmarks for the emulation: digitised arms (with their risk table) and proportions."""
    inputs = []
    for spec in benchmarks:
        arm: DigitisedArm | None = None
        if spec.kind == "km_points" and spec.points:
            times, survival = zip(*sorted(spec.points), strict=True)
            risk_times, at_risk = zip(*spec.risk_table, strict=True) if spec.risk_table else ((), ())
            arm = DigitisedArm(
                spec.label,
                tuple(float(v) for v in times),
                tuple(float(v) for v in survival),
                tuple(float(v) for v in risk_times),
                tuple(int(v) for v in at_risk),
                spec.total_events,
                spec.provenance,
                spec.source,
                spec.is_test,
            )
        elif not (spec.kind == "survival_at" and spec.value and spec.time_days and 0 < spec.value < 1):
            continue
        inputs.append(
            emulation_analyses.BenchmarkInput(
                code=spec.code,
                label=spec.label,
                stratum=spec.stratum,
                provenance=spec.provenance,
                source=spec.source,
                arm=arm,
                survival_at=None if arm else spec.value,
                time_days=None if arm else spec.time_days,
            )
        )
    return inputs


def _cohort(patients: pd.DataFrame, params: Any) -> tuple[pd.DataFrame, emulation.EmulationParameters] | str:
    """The dataset with the emulation's columns, or why it cannot be built."""
    missing = [c for c in EMULATION_COLUMNS if c not in patients.columns]
    if missing:
        return "the dataset lacks the columns the emulation needs: " + ", ".join(missing)
    if not params.data_cutoff:
        return "no data cut-off date was given for the run"
    cutoff = dt.date.fromisoformat(params.data_cutoff)
    eparams = emulation.EmulationParameters(data_cutoff=cutoff, horizon_days=params.horizon_days)
    return emulation.prepare_cohort(patients, eparams), eparams


def emulation_dataset(patients: pd.DataFrame, params: Any) -> pd.DataFrame | None:
    """The pseudonymised analysis dataset the emulation analysed (for the run's analysis package)."""
    prepared = _cohort(patients, params)
    return None if isinstance(prepared, str) else emulation_primary.analysis_dataset(prepared[0])


def run_emulation(
    patients: pd.DataFrame, benchmarks: Sequence[BenchmarkSpec], params: Any, withheld: int
) -> dict[str, Any]:
    """The target-trial emulation of docs/sap.md: flow, Table 1 and the primary comparisons."""
    prepared = _cohort(patients, params)
    if isinstance(prepared, str):
        return {"error": prepared}
    cohort, eparams = prepared
    cutoff = eparams.data_cutoff
    sets = emulation.analysis_sets(cohort)
    primary = sets["primary"]
    return {
        "sap_version": params.sap_version,
        "data_cutoff": cutoff.isoformat(),
        "horizon_days": params.horizon_days,
        "time_zero": "first dose",
        "flow": emulation.patient_flow(cohort, withheld),
        "table_one": {name: emulation.table_one(data) for name, data in sets.items()},
        "benchmarks": emulation_analyses.benchmark_comparisons(
            sets, benchmark_inputs(benchmarks), eparams, params.alpha
        ),
        "encals": {name: emulation_analyses.encals_comparison(data, params.alpha) for name, data in sets.items()},
        "primary_analysis": emulation_primary.primary_analysis(primary, benchmarks, params.horizon_days, params.alpha),
        "routes": emulation_analyses.route_comparison(primary, eparams, params.alpha, params.imputations, params.seed),
        "competing_risks": emulation_analyses.competing_events(primary, params.alpha),
        "definitions": {
            "trial_ventilation": params.trial_ventilation_definition,
            "encals_ventilation": params.encals_ventilation_definition,
            "pnfh_baseline": (
                f"CSF pNFH sample nearest the first dose among those 0-{emulation.PNFH_PRE_DOSE_WINDOW_DAYS} days "
                "before it; post-dose samples never count as baseline"
            ),
            "riluzole_run_in": f"at least {emulation.RILUZOLE_RUN_IN_DAYS} days of riluzole before the first dose "
            "is reported, not required",
        },
    }
