"""The start-up target (`manage.py check` < 0.5 s and < 100 MB) is read on production's dependency
set when the run measured it, with the bench venv's figure beside it (bench/run_all.py,
bench/report_md.py): the bench's venv holds the test and load tools too, and some libraries import
what they find installed."""

from __future__ import annotations

from typing import Any

from bench import report_md
from bench.measured import median_of


def figures(wall_s: float, peak_rss_mb: float) -> dict[str, Any]:
    return {
        "wall_s": wall_s,
        "cpu_s": wall_s,
        "peak_rss_mb": peak_rss_mb,
        "modules_imported": 1000,
        "slowest_imports_ms": {"celery.schedules": 55},
    }


def startup_row(startup: dict[str, Any]) -> str:
    [row] = [line for line in report_md.targets({"startup": startup}) if "manage.py check" in line]
    return row


def test_the_target_is_read_on_production_dependencies_when_measured():
    startup = {"repeats": 5, **figures(0.52, 89), "production": {"python": ".venv-production/bin/python"}}
    startup["production"] |= figures(0.47, 81)

    row = startup_row(startup)

    assert "0.47 s, 81 MB with production's dependencies" in row
    assert "0.52 s, 89 MB in the bench's venv" in row
    assert row.endswith("| **met** |")


def test_production_dependencies_over_the_target_are_not_met_whatever_the_bench_venv_gives():
    startup = {"repeats": 5, **figures(0.45, 89), "production": {"python": "p"} | figures(0.51, 81)}

    assert startup_row(startup).endswith("| **not met** |")


def test_a_run_without_production_dependencies_is_read_on_the_bench_venv_as_before():
    assert startup_row({"repeats": 5, **figures(0.53, 87)}).endswith("| **not met** |")
    assert startup_row({"repeats": 5, **figures(0.49, 87)}).endswith("| **met** |")


def test_the_start_up_paragraph_gives_both_venvs_and_says_which_the_target_reads():
    startup = {"repeats": 5, "load_average": "1 1 1 -> 1 1 1", **figures(0.52, 89)}
    startup["production"] = {"python": ".venv-production/bin/python", **figures(0.47, 81)}

    text = "\n".join(report_md.startup(startup))

    assert "the target is read on production's" in text
    assert "`.venv-production/bin/python`): 0.47 s (CPU 0.47 s), peak RSS 81 MB" in text
    assert "test and load tools too" in text and "0.52 s (CPU 0.52 s), peak RSS 89 MB" in text


def test_each_figure_is_its_own_median_over_the_runs():
    runs = [{"wall_s": w, "peak_rss_mb": m} for w, m in ((0.9, 80), (0.5, 90), (0.4, 85))]

    assert median_of(runs) == {"wall_s": 0.5, "peak_rss_mb": 85}
