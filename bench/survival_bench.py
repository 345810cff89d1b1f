"""Benchmark of the nightly survival run (issues 6 and 18).

Target: the run takes no more than 1.2 × a fair raw floor, measured step by step in the same
process and run, each step's time beside its raw counterpart:
- load: ours is `dataset_frames` (COPY of every SELECT, parsed into typed frames, dates of birth
  decrypted); the raw side COPYs the same SELECTs, parses each with pyarrow's CSV reader into
  native types (its fastest known means) and decrypts the same tokens with `cryptography`.
- derive: the dataset's derivations (`analysis_frames`), the project's own: the same call on
  both sides, like prepare, one_sample, encals and slopes (no library computes them).
- kaplan_meier, logrank, cox: the same estimates with lifelines. The PH test is the project's
  own on both sides (lifelines' `proportional_hazard_test` computes the same chi2 about 40
  times slower, which would flatter us); concordance is lifelines' on the raw side.
- emulation: the suite runs it (with the data cut-off of the run), and the floor fits the same
  models with lifelines on the same analysis sets: the weighted KM per route and weighted
  robust Cox fits (to 640 days and over all follow-up), the complete-case Cox, one Cox fit per
  imputation on the complete cases (the floor's stand-in for MI, whose imputation step has no
  library counterpart here), and one two-sample Cox per digitised benchmark arm and analysis
  set. Aalen-Johansen is not in the floor: lifelines' fitter jitters tied times and is slower
  than ours, which would flatter the ratio.
Figure drawing (ours only) and the whole command (`run_survival --recompute`, never a cached
result) are reported alone, with peak memory.

Usage (against a seeded database, e.g. `seed_demo --patients 100000 --seed 1`):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/il2ld_bench \\
        .venv/bin/python bench/survival_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from lifelines import CoxPHFitter, KaplanMeierFitter  # noqa: E402
from lifelines.statistics import multivariate_logrank_test  # noqa: E402
from lifelines.utils import concordance_index  # noqa: E402
from pyarrow import csv as arrow_csv  # noqa: E402

from analytics import emulation, selectors  # noqa: E402
from analytics.emulation_analyses import COX_COVARIATES, INDEX_ROUTE, PS_COVARIATES  # noqa: E402
from analytics.emulation_suite import benchmark_inputs  # noqa: E402
from analytics.stats.cox_diagnostics import _ph_test, _schoenfeld_efron  # noqa: E402
from analytics.suite import (  # noqa: E402
    ADJUSTMENT_COVARIATES,
    ENDPOINTS,
    TREATED_ROUTES,
    SuiteParameters,
    _encals,
    _one_sample_comparisons,
    _slopes,
    prepare_patients,
    run_survival_suite,
)
from analytics.survival import services  # noqa: E402
from analytics.survival.figures import drawn_figures  # noqa: E402
from bench.measured import print_report, run_measured  # noqa: E402

CPU: dict[str, float] = {}  # process CPU seconds of the last `timed` call, by label


def timed(fn: Any, label: str = "") -> tuple[float, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    CPU[label] = time.process_time() - cpu
    return time.perf_counter() - start, value


def select_of(sql: str) -> str:
    """The SELECT inside a server-side cursor's DECLARE … FOR SELECT (or the statement itself)."""
    return sql[sql.index(" FOR SELECT ") + 5 :] if sql.startswith("DECLARE") else sql


def load_recording_selects() -> tuple[dict[str, pd.DataFrame], list[tuple[str, Any]]]:
    """`dataset_frames` of the whole registry, noting each SELECT it reads (through COPY or a
    cursor) with its parameters."""
    statements: list[tuple[str, Any]] = []
    reader = selectors._frame

    def recording(queryset: Any, columns: list[str]) -> pd.DataFrame:
        statements.append(queryset.query.sql_with_params())
        return reader(queryset, columns)

    selectors._frame = recording
    try:
        with CaptureQueriesContext(connection) as queries:
            frames = selectors.dataset_frames(None)
    finally:
        selectors._frame = reader
    others = [q["sql"] for q in queries.captured_queries if "SELECT" in q["sql"] and "COPY" not in q["sql"]]
    statements += [(select_of(sql), None) for sql in others]
    return frames, statements


def raw_load(statements: list[tuple[str, Any]]) -> tuple[float, int]:
    """The raw floor of loading: COPY (SELECT …) TO STDOUT of every SELECT the loader ran, each
    parsed by pyarrow's CSV reader into native types (integers, floats, booleans, dates, text)
    and handed to pandas, and the dates of birth decrypted with `cryptography` (no project code:
    no derivations)."""
    from cryptography.fernet import Fernet, MultiFernet
    from django.conf import settings

    fernet = MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])
    total = 0
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for sql, params in statements:
            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
                for block in copy:
                    buffer.write(block)
            total += buffer.tell()
            if not buffer.tell():
                continue
            table = arrow_csv.read_csv(
                pa.py_buffer(buffer.getbuffer()),
                read_options=arrow_csv.ReadOptions(autogenerate_column_names=True, use_threads=False),
                convert_options=arrow_csv.ConvertOptions(true_values=["t"], false_values=["f"]),
            )
            frame = table.to_pandas()
            if "date_of_birth" in sql:
                [fernet.decrypt(token.encode()) for token in frame.iloc[:, 1].dropna()]
    return time.perf_counter() - start, total


def raw_km(df: pd.DataFrame) -> None:
    """The suite's Kaplan-Meier curves with lifelines."""
    for time_col, event_col in ENDPOINTS.values():
        data = df[df[time_col].notna()]
        KaplanMeierFitter().fit(data[time_col], data[event_col])
        treated = data[data["treated"] == 1]
        KaplanMeierFitter().fit(treated[time_col], treated[event_col])
        for column in ("route", "pnfh_stratum"):
            for _, group in data.groupby(column):
                KaplanMeierFitter().fit(group[time_col], group[event_col])


def raw_logrank(df: pd.DataFrame) -> None:
    """The suite's log-rank tests (routes, treated routes, strata, per endpoint) with lifelines."""
    for time_col, event_col in ENDPOINTS.values():
        data = df[df[time_col].notna()]
        for column, keep in (("route", None), ("route", TREATED_ROUTES), ("pnfh_stratum", None)):
            subset = data if keep is None else data[data[column].isin(keep)]
            multivariate_logrank_test(subset[time_col], subset[column], subset[event_col])


def raw_cox(df: pd.DataFrame) -> None:
    """The suite's four Cox fits: lifelines' Efron fit, lifelines' concordance index, and the
    project's own Grambsch-Therneau PH test (the same on both sides: lifelines'
    `proportional_hazard_test` computes the same chi2 about 40 times slower, which would flatter us)."""
    subsets = {"all": df, "low": df[df["pnfh_stratum"] == "low"], "high": df[df["pnfh_stratum"] == "high"]}
    for subset, covariates in (("all", ()), ("all", ADJUSTMENT_COVARIATES), ("low", ()), ("high", ())):
        names = ["treated", *covariates]
        data = subsets[subset][["os_time_days", "os_event", *names]].dropna().astype(float)
        cph = CoxPHFitter().fit(data, "os_time_days", "os_event")
        x = data[names].to_numpy()
        beta = cph.params_.loc[names].to_numpy()
        exit_ = data["os_time_days"].to_numpy()
        event = data["os_event"].to_numpy().astype(int)
        lp = x @ beta
        concordance_index(exit_, -lp, event)
        resid, times = _schoenfeld_efron(x, lp, exit_, event, None, np.zeros(len(data), dtype=int))
        variance = cph.variance_matrix_.loc[names, names].to_numpy()
        _ph_test(resid, times, beta, variance, names, "rank", exit_, event, None)


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


STEPS = ("prepare", "kaplan_meier", "logrank", "cox", "one_sample", "encals", "slopes", "emulation")
# The steps whose fastest known implementation is the project's own (no library computes them):
# timed again on the raw side with the same call, so they count equally on both sides.
SAME_CODE = ("derive", "prepare", "one_sample", "encals", "slopes")


def suite_steps(
    patients: pd.DataFrame, visits: pd.DataFrame, benchmarks: list[Any], params: SuiteParameters
) -> tuple[dict, dict[str, Any]]:
    """`run_survival_suite` as the run calls it, timed step by step, and its results."""
    marks: list[tuple[float, float]] = []
    output = run_survival_suite(
        patients,
        visits,
        benchmarks,
        params,
        progress=lambda *_: marks.append((time.perf_counter(), time.process_time())),
    )
    seconds = {name: marks[i + 1][0] - marks[i][0] for i, name in enumerate(STEPS)}
    return seconds | {f"cpu_{name}": marks[i + 1][1] - marks[i][1] for i, name in enumerate(STEPS)}, output.results


def raw_steps(
    frames: dict[str, pd.DataFrame],
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    benchmarks: list[Any],
    params: SuiteParameters,
) -> dict:
    seconds: dict[str, float] = {}
    seconds["derive"], _ = timed(lambda: services.analysis_frames(frames), "derive")
    seconds["prepare"], df = timed(lambda: prepare_patients(patients), "prepare")
    seconds["kaplan_meier"], _ = timed(lambda: raw_km(df), "kaplan_meier")
    seconds["logrank"], _ = timed(lambda: raw_logrank(df), "logrank")
    seconds["cox"], _ = timed(lambda: raw_cox(df), "cox")
    seconds["one_sample"], _ = timed(lambda: _one_sample_comparisons(df, benchmarks, params), "one_sample")
    seconds["encals"], _ = timed(lambda: _encals(df, params), "encals")
    seconds["slopes"], _ = timed(lambda: _slopes(df, visits, benchmarks), "slopes")
    seconds["emulation"], _ = timed(lambda: emulation_lifelines_fits(patients, benchmarks, params), "emulation")
    return seconds | {f"cpu_{name}": CPU[name] for name in seconds}


def ours_pass(benchmarks: list[Any], params: SuiteParameters) -> tuple[tuple[dict, list], dict[str, float]]:
    """The run as it computes: load, derive, the suite step by step, then the figures (alone)."""
    load_s, (frames, statements) = timed(load_recording_selects, "load")
    seconds = {"load": load_s, "cpu_load": CPU["load"]}
    unused = {name: frame.copy() for name, frame in frames.items()}  # the raw side derives from these
    seconds["derive"], (patients, visits) = timed(lambda: services.analysis_frames(frames), "derive")
    seconds["cpu_derive"] = CPU["derive"]
    steps, results = suite_steps(patients, visits, benchmarks, params)
    seconds["figures"], _ = timed(lambda: drawn_figures(results), "figures")
    return (unused, statements), seconds | steps


def raw_pass(
    frames: dict[str, pd.DataFrame], statements: list[tuple[str, Any]], benchmarks: list[Any], params: SuiteParameters
) -> dict[str, float]:
    """The floor: the same SELECTs by COPY into typed frames, then the same estimates (`raw_steps`)."""
    load_s, (_, copied) = timed(lambda: raw_load(statements), "load")
    seconds = {"load": load_s, "cpu_load": CPU["load"], "copied_mb": copied / 1e6}
    unused = {name: frame.copy() for name, frame in frames.items()}
    patients, visits = services.analysis_frames({name: frame.copy() for name, frame in frames.items()})
    return seconds | raw_steps(unused, patients, visits, benchmarks, params)


def whole_command() -> dict[str, float]:
    """`manage.py run_survival --recompute` in its own process: start-up, load, suite, figures, save."""
    out = Path(tempfile.gettempdir()) / "bench_survival_run.json"
    return run_measured([sys.executable, "manage.py", "run_survival", "--recompute", "--output", str(out)]).figures()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="Also write the report to this file.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against PostgreSQL (DATABASE_URL=postgres://…).")

    benchmarks = [services.benchmark_spec(b) for b in services.current_benchmarks()]
    params = SuiteParameters(data_cutoff=pd.Timestamp.now().date().isoformat())
    rows: list[dict[str, float]] = []
    load_before = os.getloadavg()
    # One untimed pass of each side first (imports, caches), then the sides take turns at going
    # first, so neither always runs on the caches the other warmed.
    (frames, statements), _ = ours_pass(benchmarks, params)
    raw_pass(frames, statements, benchmarks, params)
    for index in range(args.repeat):
        if index % 2:
            raw = raw_pass(frames, statements, benchmarks, params)
            (frames, statements), ours = ours_pass(benchmarks, params)
        else:
            (frames, statements), ours = ours_pass(benchmarks, params)
            raw = raw_pass(frames, statements, benchmarks, params)
        rows.append({f"ours_{k}": v for k, v in ours.items()} | {f"raw_{k}": v for k, v in raw.items()})
    patients, visits = services.analysis_frames(frames)
    frame = pd.DataFrame(rows)
    median = frame.median()
    step_names = ("load", "derive", *STEPS)
    ours_total = sum(median[f"ours_{k}"] for k in step_names)
    raw_total = sum(median[f"raw_{k}"] for k in step_names)
    ours_cpu = sum(median[f"ours_cpu_{k}"] for k in step_names)
    raw_cpu = sum(median[f"raw_cpu_{k}"] for k in step_names)
    command = whole_command()
    report = {
        "patients": len(patients),
        "alsfrs_visits": len(visits),
        "repeats": args.repeat,
        "order": "an untimed pass of each side, then ours first in odd repeats, the raw side first in even ones",
        "steps": {
            k: {
                "ours_s": round(float(median[f"ours_{k}"]), 3),
                "raw_s": round(float(median[f"raw_{k}"]), 3),
                "ours_cpu_s": round(float(median[f"ours_cpu_{k}"]), 3),
                "raw_cpu_s": round(float(median[f"raw_cpu_{k}"]), 3),
            }
            for k in step_names
        },
        "same_code_steps": list(SAME_CODE),
        "figures_s": round(float(median["ours_figures"]), 3),
        "copied_mb": round(float(median["raw_copied_mb"]), 1),
        "ours_s": round(float(ours_total), 3),
        "raw_s": round(float(raw_total), 3),
        "ratio": round(float(ours_total / raw_total), 3),
        "ours_cpu_s": round(float(ours_cpu), 3),
        "raw_cpu_s": round(float(raw_cpu), 3),
        "cpu_ratio": round(float(ours_cpu / raw_cpu), 3),
        "target_ratio": 1.2,
        "whole_command": command,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_mb_bench_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "all_repeats": frame.round(3).to_dict(orient="records"),
    }
    print_report(report, args.json)


if __name__ == "__main__":
    main()
