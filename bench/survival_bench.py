"""Benchmark of the nightly survival run (issue 6).

Target: loading from PostgreSQL plus all comparisons takes no more than 1.5 × (a raw COPY of
the rows the run reads + the same lifelines fits on the same in-memory frame), measured in
the same process and run. Figure rendering, the whole run's wall time and peak memory are
reported beside it.

The trial emulation (issue 13) is timed on both sides: the suite runs it (with the data cut-off
of the run), and the floor fits the same models with lifelines on the same analysis sets: the
weighted KM per route and weighted robust Cox fits (to 640 days and over all follow-up), the
complete-case Cox, one Cox fit per imputation on the complete cases (the floor's stand-in for
MI, whose imputation step has no library counterpart here), and one two-sample Cox per
digitised benchmark arm and analysis set. Aalen-Johansen is not in the floor: lifelines' fitter
jitters tied times and is slower than ours, which would flatter the ratio.

Usage (against a seeded database, e.g. `seed_demo --patients 100000 --seed 1`):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/il2ld_bench \\
        .venv/bin/python bench/survival_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from lifelines import CoxPHFitter, KaplanMeierFitter  # noqa: E402
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test  # noqa: E402

from analytics import emulation, selectors  # noqa: E402
from analytics.emulation_analyses import COX_COVARIATES, INDEX_ROUTE, PS_COVARIATES  # noqa: E402
from analytics.emulation_suite import benchmark_inputs  # noqa: E402
from analytics.suite import (  # noqa: E402
    ADJUSTMENT_COVARIATES,
    ENDPOINTS,
    SuiteParameters,
    benchmark_specs_from_results,
    prepare_patients,
    render_km_figures,
    run_survival_suite,
)
from analytics.survival import services  # noqa: E402


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def select_of(sql: str) -> str:
    """The SELECT inside a server-side cursor's DECLARE … FOR SELECT (or the statement itself)."""
    return sql[sql.index(" FOR SELECT ") + 5 :] if sql.startswith("DECLARE") else sql


def raw_copy(statements: list[tuple[str, Any]]) -> tuple[float, int]:
    """COPY (SELECT …) TO STDOUT of every SELECT the loader ran, bytes discarded."""
    total = 0
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for sql, params in statements:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                for block in copy:
                    total += len(block)
    return time.perf_counter() - start, total


def load_recording_selects() -> tuple[tuple[pd.DataFrame, pd.DataFrame], list[tuple[str, Any]]]:
    """`load_analysis_frames`, noting each SELECT it reads (through COPY or a cursor) with its parameters."""
    statements: list[tuple[str, Any]] = []
    reader = selectors._frame

    def recording(queryset: Any, columns: list[str]) -> pd.DataFrame:
        statements.append(queryset.query.sql_with_params())
        return reader(queryset, columns)

    selectors._frame = recording
    try:
        with CaptureQueriesContext(connection) as queries:
            frames = services.load_analysis_frames()
    finally:
        selectors._frame = reader
    others = [q["sql"] for q in queries.captured_queries if "SELECT" in q["sql"] and "COPY" not in q["sql"]]
    statements += [(select_of(sql), None) for sql in others]
    return frames, statements


def lifelines_fits(patients: pd.DataFrame) -> None:
    """The survival fits of the suite done directly with lifelines on the same frame."""
    df = prepare_patients(patients)
    for time_col, event_col in ENDPOINTS.values():
        data = df[df[time_col].notna()]
        KaplanMeierFitter().fit(data[time_col], data[event_col])
        KaplanMeierFitter().fit(data.loc[data["treated"] == 1, time_col], data.loc[data["treated"] == 1, event_col])
        for column in ("route", "pnfh_stratum"):
            for _, group in data.groupby(column):
                KaplanMeierFitter().fit(group[time_col], group[event_col])
            multivariate_logrank_test(data[time_col], data[column], data[event_col])
        treated_routes = data[data["route"] != "none"]
        multivariate_logrank_test(treated_routes[time_col], treated_routes["route"], treated_routes[event_col])
    subsets = {"all": df, "low": df[df["pnfh_stratum"] == "low"], "high": df[df["pnfh_stratum"] == "high"]}
    fits = [("all", ()), ("all", ADJUSTMENT_COVARIATES), ("low", ()), ("high", ())]  # as in the suite
    for subset, covariates in fits:
        data = subsets[subset][["os_time_days", "os_event", "treated", *covariates]].dropna()
        cph = CoxPHFitter().fit(data, "os_time_days", "os_event")
        proportional_hazard_test(cph, data, time_transform="rank")


def emulation_lifelines_fits(patients: pd.DataFrame, benchmarks: list[Any], params: SuiteParameters) -> None:
    """The emulation's model fits done directly with lifelines on the same analysis sets."""
    eparams = emulation.EmulationParameters(data_cutoff=pd.Timestamp(params.data_cutoff).date())
    sets = emulation.analysis_sets(emulation.prepare_cohort(patients, eparams))
    arms = [b.arm for b in benchmark_inputs(benchmarks) if b.arm is not None and b.arm.can_reconstruct]
    for data in sets.values():
        for arm in arms:
            ipd = arm.reconstruct().ipd
            both = pd.concat(
                [
                    pd.DataFrame({"t": data["os_days_h"], "e": data["os_event_h"], "g": 1}),
                    pd.DataFrame({"t": ipd["time"].clip(upper=640), "e": ipd["event"] * (ipd["time"] <= 640), "g": 0}),
                ]
            )
            CoxPHFitter().fit(both, "t", "e")
    primary = sets["primary"]
    routes = primary[primary["route"].isin([INDEX_ROUTE, "managed_access"])].assign(
        g=lambda d: (d["route"] == INDEX_ROUTE).astype(int)
    )
    complete = routes.dropna(subset=list(PS_COVARIATES)).assign(w=1.0)
    for _, group in complete.groupby("route"):
        KaplanMeierFitter().fit(group["os_days_h"], group["os_event_h"], weights=group["w"])
    for days, event in (("os_days_h", "os_event_h"), ("os_days", "os_event")):
        CoxPHFitter().fit(complete[[days, event, "g", "w"]], days, event, weights_col="w", robust=True)
    adjusted = routes[["os_days_h", "os_event_h", "g", *COX_COVARIATES]].dropna()
    for _ in range(1 + params.imputations):
        CoxPHFitter().fit(adjusted, "os_days_h", "os_event_h")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against PostgreSQL (DATABASE_URL=postgres://…).")

    benchmarks = [services.benchmark_spec(b) for b in services.current_benchmarks()]
    params = SuiteParameters(data_cutoff=pd.Timestamp.now().date().isoformat())
    rows: list[dict[str, float]] = []
    for _ in range(args.repeat):
        load_s, ((patients, visits), statements) = timed(load_recording_selects)
        suite_s, output = timed(
            lambda: run_survival_suite(patients, visits, benchmarks, params, render_figures=False)  # noqa: B023
        )
        copy_s, copied_bytes = raw_copy(statements)
        lifelines_s, _ = timed(lambda: lifelines_fits(patients))  # noqa: B023
        emulation_floor_s, _ = timed(lambda: emulation_lifelines_fits(patients, benchmarks, params))  # noqa: B023
        figures_s, _ = timed(lambda: render_km_figures(output.results, benchmark_specs_from_results(output.results)))  # noqa: B023
        rows.append(
            {
                "load_s": load_s,
                "suite_s": suite_s,
                "copy_s": copy_s,
                "lifelines_s": lifelines_s,
                "emulation_lifelines_s": emulation_floor_s,
                "figures_s": figures_s,
                "copied_mb": copied_bytes / 1e6,
            }
        )

    run = services.survival_run_request(user=None, trigger="command", enqueue=False)
    whole_s, run = timed(lambda: services.survival_run_execute(run.pk))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    frame = pd.DataFrame(rows)
    median = frame.median()
    ours = median["load_s"] + median["suite_s"]
    baseline = median["copy_s"] + median["lifelines_s"] + median["emulation_lifelines_s"]
    report = {
        "patients": len(patients),
        "alsfrs_visits": len(visits),
        "deaths": int(output.results["cohort"]["os_events"]),
        "repeats": args.repeat,
        "median_seconds": {k: round(float(v), 3) for k, v in median.items()},
        "ours_load_plus_comparisons_s": round(float(ours), 3),
        "baseline_copy_plus_lifelines_s": round(float(baseline), 3),
        "imputations": params.imputations,
        "ratio": round(float(ours / baseline), 3),
        "target_ratio": 1.5,
        "whole_run_wall_s": round(whole_s, 3),
        "whole_run_status": run.status if run else None,
        "peak_rss_mb": round(peak_mb, 1),
        "all_repeats": frame.round(3).to_dict(orient="records"),
        "numpy": np.__version__,
    }
    out = io.StringIO()
    json.dump(report, out, indent=2)
    print(out.getvalue())


if __name__ == "__main__":
    main()
