"""Reads for the dashboard: runs, and the tables and trends drawn from stored results."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.db.models import QuerySet

from analytics.survival.models import ANALYSIS, AnalysisRun, Benchmark, RunReport, RunStatus
from registry import safe_csv

ROUTE_LABELS = {
    "managed_access": "Managed access (ILT-101)",
    "nhs_specials": "NHS Specials (Proleukin)",
    "none": "Untreated comparator",
}
STRATUM_LABELS = {"below_750": "pNFH < 750", "low": "pNFH 750-3700", "high": "pNFH > 3700", "missing": "missing"}


def runs() -> QuerySet[AnalysisRun]:
    return AnalysisRun.objects.filter(analysis=ANALYSIS).defer("results", "figures")


def latest_succeeded_run() -> AnalysisRun | None:
    return AnalysisRun.objects.filter(analysis=ANALYSIS, status=RunStatus.SUCCEEDED).order_by("-finished_at").first()


def active_run() -> AnalysisRun | None:
    return runs().filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()


STEP_LABELS = {
    "prepare": "preparing the dataset",
    "kaplan_meier": "Kaplan-Meier estimates",
    "logrank": "log-rank tests",
    "cox": "Cox models",
    "one_sample": "observed against expected deaths",
    "encals": "the ENCALS expectation",
    "slopes": "ALSFRS-R slopes",
    "emulation": "the emulated trial",
    "figures": "drawing the figures",
    "report": "writing the report and the analysis package",
    "done": "saving the results",
}


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def run_progress(run: AnalysisRun, now: dt.datetime) -> dict[str, Any]:
    """Steps done of total, the step under way (in words) and the time since the run was requested."""
    return {
        "done": run.progress_done,
        "total": run.progress_total,
        "step": STEP_LABELS.get(run.progress_step, run.progress_step.replace("_", " ")),
        "elapsed": _duration((now - (run.started_at or run.created_at)).total_seconds()),
    }


def archived_report(run: AnalysisRun) -> RunReport | None:
    """The run's archived report, without loading its files."""
    return RunReport.objects.filter(run=run).only("pk", "created_at", "dataset_sha256", "code_version").first()


def benchmarks() -> QuerySet[Benchmark]:
    return Benchmark.objects.order_by("trial", "code", "-version")


def _at(summary: dict[str, Any] | None, day: int) -> dict[str, Any] | None:
    if not summary:
        return None
    return next((row for row in summary.get("at_times", []) if row["time"] == day), None)


def km_table(results: dict[str, Any], endpoint: str = "os") -> list[dict[str, Any]]:
    """One row per group: n, events, median and survival at 365/640 days, each with its CI."""
    km = results["km"]
    groups: list[tuple[str, dict[str, Any] | None]] = [
        ("All patients", km["overall"][endpoint]),
        ("Treated (IL-2LD)", km["treated"][endpoint]),
        *[(ROUTE_LABELS.get(k, k), v) for k, v in km["by_route"][endpoint].items()],
        *[(STRATUM_LABELS.get(k, k), v) for k, v in km["by_stratum"][endpoint].items()],
    ]
    rows = []
    for label, summary in groups:
        if not summary:
            continue
        rows.append(
            {
                "group": label,
                "n": summary["n"],
                "events": summary["events"],
                "median": summary["median"],
                "median_ci": (summary["median_ci_lower"], summary["median_ci_upper"]),
                "s365": _at(summary, 365),
                "s640": _at(summary, 640),
            }
        )
    return rows


def trend(limit: int = 30) -> list[dict[str, Any]]:
    """Key estimates of the newest `limit` succeeded runs, oldest first, as data accrue."""
    newest = AnalysisRun.objects.filter(analysis=ANALYSIS, status=RunStatus.SUCCEEDED).order_by("-finished_at", "-pk")
    points = []
    for run in reversed(newest[:limit]):
        results = run.results or {}
        treated = _at(results.get("km", {}).get("treated", {}).get("os"), 640)
        encals = results.get("encals", {}).get("groups", {}).get("all", {})
        primary = (results.get("emulation") or {}).get("primary_analysis", {}).get("estimate", {})
        points.append(
            {
                "run": run.pk,
                "finished_at": run.finished_at,
                "n": results.get("cohort", {}).get("n"),
                "deaths": results.get("cohort", {}).get("os_events"),
                "treated_s640": treated["survival"] if treated else None,
                "primary_smr": primary.get("smr"),
                "primary_smr_ci_lower": primary.get("smr_ci_lower"),
                "primary_smr_ci_upper": primary.get("smr_ci_upper"),
                "encals_smr": encals.get("smr"),
            }
        )
    return points


TABLES = ("km_os", "km_composite", "hazard_ratios", "one_sample", "encals", "slopes", "logrank")


def table_rows(results: dict[str, Any], table: str) -> tuple[list[str], list[list[Any]]]:
    """Flat rows for CSV download of one results table."""
    if table in ("km_os", "km_composite"):
        header = [
            "group",
            "n",
            "events",
            "median_days",
            "median_ci_lower",
            "median_ci_upper",
            "s365",
            "s365_ci_lower",
            "s365_ci_upper",
            "s640",
            "s640_ci_lower",
            "s640_ci_upper",
        ]
        rows = []
        for row in km_table(results, table.removeprefix("km_")):
            cells = [row["group"], row["n"], row["events"], row["median"], *row["median_ci"]]
            for key in ("s365", "s640"):
                at = row[key] or {}
                cells += [at.get("survival"), at.get("ci_lower"), at.get("ci_upper")]
            rows.append(cells)
        return header, rows
    if table == "hazard_ratios":
        header = [
            "comparison",
            "trial_hr",
            "trial_ci_lower",
            "trial_ci_upper",
            "trial_provenance",
            "registry_hr",
            "registry_ci_lower",
            "registry_ci_upper",
            "registry_n",
            "registry_events",
            "model",
        ]
        return header, [
            [
                r["benchmark"]["label"],
                r["benchmark"]["value"],
                r["benchmark"]["ci_lower"],
                r["benchmark"]["ci_upper"],
                r["benchmark"]["provenance"],
                r["registry"].get("hr"),
                r["registry"].get("ci_lower"),
                r["registry"].get("ci_upper"),
                r["registry"].get("n"),
                r["registry"].get("events"),
                r["model"],
            ]
            for r in results["cox"]["trial_comparison"]
        ]
    if table == "one_sample":
        header = [
            "benchmark",
            "provenance",
            "cohort",
            "n",
            "observed",
            "expected",
            "smr",
            "smr_ci_lower",
            "smr_ci_upper",
            "p",
        ]
        return header, [
            [
                r["benchmark"]["label"],
                r["benchmark"]["provenance"],
                r["cohort"],
                r["result"].get("n"),
                r["result"].get("observed"),
                r["result"].get("expected"),
                r["result"].get("smr"),
                r["result"].get("smr_ci_lower"),
                r["result"].get("smr_ci_upper"),
                r["result"].get("p"),
            ]
            for r in results["one_sample"]
        ]
    if table == "encals":
        header = ["group", "n", "observed", "expected", "smr", "smr_ci_lower", "smr_ci_upper", "p"]
        return header, [
            [name, g["n"], g["observed"], g["expected"], g["smr"], g["smr_ci_lower"], g["smr_ci_upper"], g["p"]]
            for name, g in results["encals"]["groups"].items()
        ]
    if table == "slopes":
        header = ["group", "n_patients", "n_visits", "mean_slope_per_month", "ci_lower", "ci_upper"]
        return header, [
            [name, g["n"], g["n_visits"], g["mean_slope"], g["ci_lower"], g["ci_upper"]]
            for name, g in results["slopes"].get("groups", {}).items()
        ]
    if table == "logrank":
        header = ["comparison", "endpoint", "chi2", "df", "p", "n", "events"]
        rows = []
        for comparison, by_endpoint in results["logrank"].items():
            for endpoint, test in by_endpoint.items():
                if test:
                    rows.append([comparison, endpoint, test["chi2"], test["df"], test["p"], test["n"], test["events"]])
        return header, rows
    raise KeyError(table)


def table_csv(results: dict[str, Any], table: str) -> str:
    header, rows = table_rows(results, table)
    buffer = io.StringIO()
    writer = safe_csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
