"""docs/benchmarks.md's memory table (issue 18, item 6): every command's peak RSS at each size, and
whether it grew as allowed between the smallest and the largest size (bench/report_md.py)."""

from __future__ import annotations

from typing import Any

from bench.report_md import memory


def report(patients: int, *, export_mb: float, patients_mb: float, import_mb: float, survival_mb: float) -> dict:
    scale = patients / 20_000
    r: dict[str, Any] = {
        "patients": patients,
        "startup": {"peak_rss_mb": 100.0},
        "survival": {"whole_command": {"peak_rss_mb": survival_mb}, "copied_mb": 15.0 * scale},
        "export": {
            "tables": {
                "alsfrs_r": {"rows": int(196_000 * scale), "ours": {"peak_rss_mb": export_mb}},
                "patients": {"rows": patients, "ours": {"peak_rss_mb": patients_mb}},
            }
        },
        "import": {
            "file_rows": {"patients.csv": patients, "alsfrs_r.csv": int(196_000 * scale)},
            "export_peak_rss_mb": 90.0,
            "import": {"rows": int(656_000 * scale), "peak_rss_mb": import_mb, "largest_worker_peak_rss_mb": 140.0},
            "reimport": {"rows": int(656_000 * scale), "peak_rss_mb": import_mb, "largest_worker_peak_rss_mb": 140.0},
        },
    }
    return r


def row(lines: list[str], command: str) -> list[str]:
    [line] = [line for line in lines if line.startswith(f"| {command} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


SMALL = report(20_000, export_mb=80.0, patients_mb=262.0, import_mb=83.0, survival_mb=468.0)


def test_every_command_with_a_peak_has_a_row_with_its_peak_and_data():
    lines = memory([SMALL])
    assert row(lines, "`manage.py export_dataset --table alsfrs_r`")[2] == "80 MB (196,000 rows)"
    assert row(lines, "`manage.py run_survival --recompute`")[1] == "at most proportional to the analysed data"
    for command in (
        "`manage.py check`",
        "`manage.py export_dataset --table patients`",
        "`manage.py export_cohort`",
        "`manage.py import_cohort`, main process",
        "`manage.py import_cohort`, largest worker",
        "the same import again, main process",
        "the same import again, largest worker",
    ):
        assert row(lines, command)[1] == "flat in the data size"


def test_one_size_only_judges_nothing_and_says_so():
    lines = memory([SMALL])
    assert row(lines, "`manage.py check`")[-1] == "needs two sizes"
    assert not any("met" in line for line in lines if line.startswith("| `"))
    assert any(line.startswith("Only one size measured so far") for line in lines)


def test_two_sizes_judge_flat_commands_by_their_peaks_and_the_analysis_by_its_data():
    large = report(100_000, export_mb=84.0, patients_mb=1_100.0, import_mb=83.0, survival_mb=1_500.0)
    lines = memory([large, SMALL])  # in any order: compared smallest to largest
    assert row(lines, "command")[2:4] == ["20,000 patients", "100,000 patients"]
    export = row(lines, "`manage.py export_dataset --table alsfrs_r`")
    assert export[2:4] == ["80 MB (196,000 rows)", "84 MB (980,000 rows)"]
    assert export[-1] == "**met**: the peak × 1.05 for × 5.00 the data"
    assert row(lines, "`manage.py export_dataset --table patients`")[-1].startswith("**not met**: the peak × 4.20")
    assert row(lines, "`manage.py import_cohort`, main process")[-1].startswith("**met**")
    assert row(lines, "`manage.py run_survival --recompute`")[-1].startswith("**met**: the peak × 3.21")
    assert not any(line.startswith("Only one size") for line in lines)


def test_an_analysis_growing_faster_than_its_data_is_not_met():
    large = report(100_000, export_mb=80.0, patients_mb=262.0, import_mb=83.0, survival_mb=2_400.0)
    assert row(memory([SMALL, large]), "`manage.py run_survival --recompute`")[-1].startswith("**not met**")


def test_a_command_missing_at_one_size_is_shown_empty_and_not_judged():
    large = report(100_000, export_mb=80.0, patients_mb=262.0, import_mb=83.0, survival_mb=900.0)
    del large["import"]["export_peak_rss_mb"], large["import"]["reimport"]["peak_rss_mb"]
    lines = memory([SMALL, large])
    assert row(lines, "`manage.py export_cohort`")[3:] == ["–", "needs two sizes"]
    assert row(lines, "the same import again, main process")[3:] == ["–", "needs two sizes"]
