"""Benchmark: import a 100,000-patient cohort in the interchange format (issue 4).

Steps, each a `manage.py` command in a subprocess so memory and time are the command's own:

1. seed the source database with the demo cohort (`seed_demo`; nothing happens if it is
   already seeded) and export it with `export_cohort`, with its peak memory (skipped with --cohort DIR);
2. recreate the target database, migrate it and add the demo sites (the format names sites,
   it does not create them);
3. `import_cohort` into the empty target: rows, seconds, rows/s, peak memory (max RSS);
4. check every row arrived with one history row each;
5. import the same folder again: nothing may change (the idempotent re-run), timed and its peak
   memory taken too;
6. the raw sides: `psql \\copy … FROM` of the same files into bare text tables, and of every row
   the import wrote into a copy of the target as the import found it (the registry's own tables:
   what the schema's writes cost with no validation; `copy_into_schema_floor`).

Usage (PostgreSQL on 127.0.0.1 as in the README):

    .venv/bin/python bench/import_cohort_bench.py \\
        --source postgres://postgres@127.0.0.1:5432/il2ld_bench_import \\
        --target postgres://postgres@127.0.0.1:5432/il2ld_bench_import_target \\
        --patients 100000 --cohort-dir var/bench/cohort100k

The target database is dropped and recreated: never point --target at real data.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measured import db_name, print_report, psql, run_measured, with_db  # noqa: E402

PYTHON = sys.executable
TARGET_ROWS_PER_SECOND = 50_000  # accepted rows (issue 18)
LAST_CPU_SECONDS = [0.0]
LAST_CHILD_MAXRSS_KB = [0]


# Runs manage.py in-process and reports the process's own peak resident memory at exit.
MEASURED = (
    "import atexit, resource, runpy, sys\n"
    "def report():\n"
    "    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime\n"
    "    sys.stderr.write(f'MAXRSS_KB {own.ru_maxrss} CHILD_MAXRSS_KB {children.ru_maxrss} CPU_S {cpu:.1f}\\n')\n"
    "atexit.register(report)\n"
    "sys.argv = ['manage.py', *sys.argv[1:]]\n"
    "runpy.run_path('manage.py', run_name='__main__')\n"
)


def manage(database_url: str, *args: str) -> tuple[str, float, int]:
    """Run manage.py; returns (stdout, wall seconds, peak RSS of that process in kB).

    The CPU seconds (user + system) of the process and its worker processes are kept in
    LAST_CPU_SECONDS, the largest worker's peak RSS in LAST_CHILD_MAXRSS_KB.
    """
    # One role per database here (the URL's): an owner URL from the caller's environment would
    # name another database, so DATABASE_ADMIN_URL is left empty.
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATABASE_ADMIN_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-c", MEASURED, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed ({done.returncode})")
    usage = re.search(r"MAXRSS_KB (\d+) CHILD_MAXRSS_KB (\d+) CPU_S ([\d.]+)", done.stderr)
    LAST_CPU_SECONDS[0] = float(usage.group(3)) if usage else 0.0
    LAST_CHILD_MAXRSS_KB[0] = int(usage.group(2)) if usage else 0
    return done.stdout, elapsed, int(usage.group(1)) if usage else 0


def _client_options(database_url: str) -> list[str]:
    url = urlparse(database_url)
    return ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]


def drop(database_url: str) -> None:
    subprocess.run(["dropdb", *_client_options(database_url), "--if-exists", db_name(database_url)], check=True)


def recreate(database_url: str, template: str | None = None) -> None:
    drop(database_url)
    copy_of = ["-T", template] if template else []
    subprocess.run(["createdb", *_client_options(database_url), *copy_of, db_name(database_url)], check=True)


def parse_import(stdout: str) -> dict[str, float]:
    match = re.search(r"Import run \d+: ([\d,]+) rows in ([\d.]+) s \(([\d,]+) rows/s\); ([\d,]+) rejected", stdout)
    if not match:
        raise SystemExit(f"Could not read the import summary:\n{stdout}")
    rows, seconds, rate, rejected = match.groups()
    return {
        "rows": int(rows.replace(",", "")),
        "seconds": float(seconds),
        "rows_per_second": int(rate.replace(",", "")),
        "rejected": int(rejected.replace(",", "")),
    }


def copy_from_floor(database_url: str, cohort: Path) -> dict[str, Any]:
    """The raw floor: `psql \\copy … FROM` of the same files into plain (logged, unindexed) tables of
    text columns, one per file, as one psql command timed whole; the tables are dropped after."""
    script = []
    rows = 0
    for index, path in enumerate(sorted(cohort.glob("*.csv"))):
        with path.open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
            rows += sum(1 for _ in handle)
        columns = ", ".join(f'"{name}" text' for name in header)
        script += [f"DROP TABLE IF EXISTS bench_raw_{index}; CREATE TABLE bench_raw_{index} ({columns});"]
        script += [f"\\copy bench_raw_{index} FROM '{path.resolve()}' WITH (FORMAT csv, HEADER)"]
    drop = "; ".join(f"DROP TABLE IF EXISTS bench_raw_{i}" for i in range(len(script) // 2))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as sql:
        sql.write("\n".join(script) + "\n")
    measured = run_measured(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", database_url, "-f", sql.name])
    subprocess.run(["psql", "-X", "-q", database_url, "-c", drop], check=True)
    Path(sql.name).unlink()
    return {"rows": rows, **measured.figures(), "rows_per_second": round(rows / measured.wall_s)}


def row_counts(database_url: str) -> dict[str, int]:
    """Every table of the public schema with its exact row count."""
    tables = psql(
        database_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ).split()
    union = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
    rows = (line.split("|") for line in psql(database_url, union).splitlines())
    return {name: int(count) for name, count in rows}


def copy_into_schema_floor(imported_url: str, empty_url: str, before: dict[str, int]) -> dict[str, Any]:
    """The schema's floor: `psql \\copy … FROM` of every row the import wrote (each table that was
    empty before it: the records, their history rows, the data queries and safety cases its rules
    raised), in PostgreSQL's binary format, into `empty_url`, a copy of the target as it was before
    the import (migrated, sites added): the registry's own tables with their indexes, constraints
    and foreign keys (deferred: checked at the commit). One psql process, one transaction, timed
    whole; no validation, no Python. The rows are dumped from the imported database first, untimed."""
    after = row_counts(imported_url)
    written = {t: n for t, n in after.items() if n and not before.get(t)}
    grown_elsewhere = sorted(t for t, n in after.items() if before.get(t) and n != before[t])
    with tempfile.TemporaryDirectory() as folder:
        load = ["BEGIN;"]
        for table in written:
            path = Path(folder) / f"{table}.bin"
            subprocess.run(
                ["psql", "-X", "-q", imported_url, "-c", f"\\copy \"{table}\" TO '{path}' (FORMAT binary)"],
                check=True,
            )
            load.append(f"\\copy \"{table}\" FROM '{path}' (FORMAT binary)")
        script = Path(folder) / "load.sql"
        script.write_text("\n".join([*load, "COMMIT;"]) + "\n")
        measured = run_measured(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", empty_url, "-f", str(script)])
    return {
        "tables": len(written),
        "rows": sum(written.values()),
        "tables_with_rows_before_that_grew": grown_elsewhere,
        **measured.figures(),
    }


def table_counts(database_url: str) -> dict[str, tuple[int, int]]:
    code = (
        "import json\n"
        "from django.apps import apps\n"
        "from registry.models import ClinicalRecord\n"
        "print(json.dumps({m.__name__: [m.objects.count(), m.history.filter(history_type='+').count()]"
        " for m in apps.get_models() if issubclass(m, ClinicalRecord)}))\n"
    )
    stdout, _, _ = manage(database_url, "shell", "-c", code)
    return {name: tuple(v) for name, v in json.loads(stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, help="DATABASE_URL of the seeded (or to-be-seeded) registry")
    parser.add_argument("--target", required=True, help="DATABASE_URL of a scratch database (dropped!)")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cohort-dir", default=str(ROOT / "var" / "bench" / "cohort"))
    parser.add_argument("--cohort", help="Import this RIF folder instead of seeding and exporting")
    parser.add_argument(
        "--no-seed", action="store_true", help="The source is already seeded: only export it (nothing is written to it)"
    )
    parser.add_argument("--workers", type=int, default=1, help="import_cohort --workers")
    parser.add_argument("--json", type=Path, default=None, help="Also write the report to this file.")
    args = parser.parse_args()

    report: dict[str, Any] = {"patients": args.patients}
    if args.cohort:
        cohort = Path(args.cohort)
    else:
        cohort = Path(args.cohort_dir)
        if not args.no_seed:
            _, seconds, _ = manage(
                args.source, "seed_demo", "--patients", str(args.patients), "--seed", str(args.seed), "--no-users"
            )
            report["seed_seconds"] = round(seconds, 1)
        _, seconds, peak_kb = manage(args.source, "export_cohort", str(cohort))
        report["export_seconds"] = round(seconds, 1)
        report["export_peak_rss_mb"] = round(peak_kb / 1024, 1)
    files = {path.name: sum(1 for _ in path.open(encoding="utf-8")) - 1 for path in sorted(cohort.glob("*.csv"))}
    report["file_rows"] = files

    recreate(args.target)
    manage(args.target, "migrate", "--noinput", "-v0")
    manage(args.target, "shell", "-c", "from access_programme.demo_cohort import ensure_sites; ensure_sites()")
    # The schema floor's database: the target as the import finds it (see copy_into_schema_floor).
    schema_floor_url = with_db(args.target, f"{db_name(args.target)}_schema")
    recreate(schema_floor_url, template=db_name(args.target))
    before = row_counts(args.target)

    load_before = os.getloadavg()
    workers = ["--workers", str(args.workers)]
    stdout, wall, peak_kb = manage(args.target, "import_cohort", str(cohort), "--no-progress", *workers)
    first = parse_import(stdout)
    report["import"] = {
        **first,
        "accepted_rows": first["rows"] - first["rejected"],
        "accepted_rows_per_second": round((first["rows"] - first["rejected"]) / first["seconds"]),
        "process_wall_seconds": round(wall, 1),
        "process_cpu_seconds": LAST_CPU_SECONDS[0],
        "rows_per_cpu_second": round(first["rows"] / LAST_CPU_SECONDS[0]) if LAST_CPU_SECONDS[0] else None,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "largest_worker_peak_rss_mb": round(LAST_CHILD_MAXRSS_KB[0] / 1024, 1),
        "workers": args.workers,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }

    counts = table_counts(args.target)
    report["table_rows_and_creation_history"] = counts
    report["every_row_has_one_history_row"] = all(rows == history for rows, history in counts.values())

    stdout, wall, peak_kb = manage(args.target, "import_cohort", str(cohort), "--no-progress", *workers)
    again = parse_import(stdout)
    report["reimport"] = {
        **again,
        "process_wall_seconds": round(wall, 1),
        "process_cpu_seconds": LAST_CPU_SECONDS[0],
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "largest_worker_peak_rss_mb": round(LAST_CHILD_MAXRSS_KB[0] / 1024, 1),
    }
    report["reimport"]["nothing_changed"] = table_counts(args.target) == counts
    report["copy_from"] = copy_from_floor(args.target, cohort)
    report["copy_into_schema"] = copy_into_schema_floor(args.target, schema_floor_url, before)
    report["copy_into_schema"]["accepted_rows_per_second"] = round(
        report["import"]["accepted_rows"] / report["copy_into_schema"]["wall_s"]
    )
    drop(schema_floor_url)
    report["target_accepted_rows_per_second"] = TARGET_ROWS_PER_SECOND
    report["meets_target"] = report["import"]["accepted_rows_per_second"] >= TARGET_ROWS_PER_SECOND
    print_report(report, args.json)


if __name__ == "__main__":
    main()
