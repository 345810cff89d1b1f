"""The import's figures name two raw sides (bench/import_cohort_bench.py, bench/report_md.py): COPY
FROM of the same files into bare text tables, and COPY FROM of every row the import wrote into the
registry's own tables, which says what the schema's writes cost without any validation. A run made
before the second existed is rendered as it was."""

from __future__ import annotations

from typing import Any

from bench import report_md


def import_figures(*, with_schema_floor: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "load_average": "1 1 1 -> 1 1 1",
        "import": {
            "workers": 2,
            "rows": 600_000,
            "rejected": 0,
            "accepted_rows": 600_000,
            "seconds": 30.0,
            "accepted_rows_per_second": 20_000,
            "process_cpu_seconds": 29.0,
            "peak_rss_mb": 76.0,
            "largest_worker_peak_rss_mb": 150.0,
        },
        "copy_from": {"rows": 600_001, "wall_s": 0.8, "cpu_s": 0.1, "peak_rss_mb": 9.0, "rows_per_second": 750_000},
        "reimport": {"rows": 600_000, "seconds": 9.0, "rows_per_second": 66_667, "process_cpu_seconds": 13.0},
        "every_row_has_one_history_row": True,
    }
    figures["reimport"]["nothing_changed"] = True
    if with_schema_floor:
        figures["copy_into_schema"] = {
            "tables": 28,
            "rows": 1_400_000,
            "wall_s": 12.0,
            "cpu_s": 0.2,
            "peak_rss_mb": 9.0,
            "accepted_rows_per_second": 50_000,
        }
    return figures


def test_the_schema_floor_is_a_row_of_its_own_with_the_accepted_rows_a_second_it_allows():
    lines = report_md.import_(import_figures(with_schema_floor=True))

    [row] = [line for line in lines if "into the registry's own tables" in line]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert "1,400,000 rows in 28 tables" in cells[0]
    assert cells[1:4] == ["600,000 accepted", "12.0", "50,000"]


def test_the_import_is_also_given_as_a_fraction_of_the_schema_floor():
    text = "\n".join(report_md.import_(import_figures(with_schema_floor=True)))

    assert "Import / COPY into the registry's tables: 0.40." in text


def test_a_run_without_the_schema_floor_renders_as_before():
    text = "\n".join(report_md.import_(import_figures(with_schema_floor=False)))

    assert "registry's own tables" not in text and "COPY into the registry's tables" not in text
    assert "Import / COPY FROM: 0.027." in text
