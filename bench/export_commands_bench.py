"""Export as whole commands (issue 18, item 1): `manage.py export_dataset FILE --table T` against
`psql -c "\\copy (SELECT …) TO FILE CSV HEADER"` of the same rows in the same order, with the
columns in their native types (no casts), each timed as a process of its own (start-up included)
with its peak memory. The patient table is derived in pandas and has no COPY counterpart: its
export is reported alone. Runs `--repeat` alternating pairs and reports medians.

Usage (the database of DATABASE_URL; export_dataset writes an export-log row there):
    .venv/bin/python bench/export_commands_bench.py [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from analytics import selectors  # noqa: E402
from bench.measured import loadavg, median_of, print_report, run_measured  # noqa: E402


def native_sql(table: str) -> str:
    """The exporter's query for every patient (the system export) with the columns as stored."""
    sql, params = selectors.long_table_queryset(table, None).query.sql_with_params()
    connection.ensure_connection()
    return str(connection.ops.compose_sql(sql, params))  # type: ignore[attr-defined]  # PostgreSQL ops only


def measure(table: str, repeat: int, directory: Path) -> dict[str, Any]:
    ours_file, copy_file = directory / f"{table}.csv", directory / f"{table}.copy.csv"
    command = [sys.executable, "manage.py", "export_dataset", str(ours_file), "--table", table]
    ours, raw = [], []
    copy_sql = native_sql(table) if table in selectors.LONG_TABLES else None
    for _ in range(repeat):
        ours.append(run_measured(command).figures())
        if copy_sql:
            copy = f"\\copy ({copy_sql}) TO '{copy_file}' WITH (FORMAT csv, HEADER)"
            raw.append(run_measured(["psql", "-X", "-q", os.environ["DATABASE_URL"], "-c", copy]).figures())
    with ours_file.open("rb") as handle:
        rows = sum(1 for _ in handle) - 1
    result: dict[str, Any] = {"rows": rows, "ours": median_of(ours), "ours_bytes": ours_file.stat().st_size}
    if raw:
        result["copy"] = median_of(raw)
        result["copy_bytes"] = copy_file.stat().st_size
        # throughput ratio: native COPY's time over ours (1.0 = as fast as COPY)
        result["ratio"] = round(result["copy"]["wall_s"] / result["ours"]["wall_s"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tables", default="alsfrs_r,biomarkers,patients")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    report: dict[str, Any] = {"load_average_before": loadavg(), "target_ratio": 0.8, "tables": {}}
    with tempfile.TemporaryDirectory() as directory:
        for table in args.tables.split(","):
            report["tables"][table] = measure(table, args.repeat, Path(directory))
    report["load_average_after"] = loadavg()
    print_report(report, args.json)


if __name__ == "__main__":
    main()
