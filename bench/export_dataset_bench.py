"""Benchmark: streamed CSV export of the ALSFRS-R visits table against PostgreSQL's own COPY.

Issue 4 asks that the CSV export of the visits table reach at least half the throughput of
`COPY (SELECT ...) TO STDOUT` of the same rows, measured in the same run, with peak memory that
does not grow with the number of rows. Both sides run the *same* SQL: the COPY wraps the
query the exporter itself executes (`long_table_queryset(...).query`), so the comparison is
row for row.

Each measurement runs in a fresh child process, so its peak RSS (ru_maxrss) belongs to that
export alone; memory is reported as peak RSS minus the RSS after Django start-up. Two sizes:
the patients of one site (a clinician's export) and every patient (the system export). The
database is ANALYZEd first (seed_demo leaves planner statistics stale).

`--table patients` has no COPY counterpart (the table is derived in pandas, a chunk of
patients at a time): it runs the export alone, `--repeat` times per size, and reports its rate
and memory, so the two sizes show whether memory grows with the number of patients.

The script writes to the database (a benchmark clinician, export log rows): run it on a copy.

Usage (PostgreSQL only):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/il2ld_bench_export \
        .venv/bin/python bench/export_dataset_bench.py [--table alsfrs_r] [--site FR-PAR] [--repeat 3]
        [--append docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child(mode: str, table: str, site: str | None) -> dict[str, object]:
    """One measurement in this (fresh) process: 'export' or 'copy'."""
    _setup_django()
    from django.db import connection, transaction

    from analytics import exports, selectors
    from registry.models import Role, Site, User

    user = None
    if site:
        user, _ = User.objects.get_or_create(username=f"bench-clinician-{site}", defaults={"role": Role.CLINICIAN})
        user.sites.set(Site.objects.filter(code=site))
    start_rss = _rss_kib()
    started = time.perf_counter()
    size = 0
    rows = 0
    if mode == "export":
        export = exports.CsvExport(table=table, user=user, channel="command", destination="benchmark")
        for chunk in export:
            size += len(chunk)
        rows = export.rows
    else:
        sql, params = selectors.long_table_queryset(table, user, as_csv_text=True).query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            statement = connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]  # PostgreSQL ops only
            copy_sql = f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER)"
            with cursor.cursor.copy(copy_sql) as copy:
                for block in copy:
                    size += len(block)
                    rows += bytes(block).count(b"\n")
        rows -= 1  # header
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "mode": mode,
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else 0.0,
        "start_rss_mib": start_rss / 1024,
        "peak_rss_mib": peak_kib / 1024,
        "growth_mib": (peak_kib - start_rss) / 1024,
    }


def run_child(mode: str, table: str, site: str | None) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", mode, "--table", table, "--site", site or ""]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", default="alsfrs_r")
    parser.add_argument("--site", default="FR-PAR", help="Site for the smaller size (a clinician's export).")
    parser.add_argument("--repeat", type=int, default=5, help="COPY/export pairs per size (median reported).")
    parser.add_argument("--append", type=Path, default=None, help="Append the results to this Markdown file.")
    parser.add_argument("--child", choices=["export", "copy"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child, args.table, args.site or None)))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database seeded with seed_demo (see the module docstring).")

    # seed_demo writes in one transaction and leaves planner statistics stale: analyse first, as
    # autovacuum would shortly after, so both sides run the plan production would.
    _setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()

    report = patient_table_report(args) if args.table == "patients" else long_table_report(args)
    print(report)
    if args.append:
        with args.append.open("a", encoding="utf-8") as out:
            out.write(report)


def patient_table_report(args: argparse.Namespace) -> str:
    """The patient table's export alone (no COPY counterpart), `--repeat` runs per size."""
    lines = []
    for label, site in ((f"one site ({args.site})", args.site), ("all sites", "")):
        runs = [run_child("export", "patients", site) for _ in range(args.repeat)]
        assert len({r["rows"] for r in runs}) == 1, runs
        seconds = statistics.median(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
        rate = statistics.median(float(r["rows_per_s"]) for r in runs)  # type: ignore[arg-type]
        peak = max(float(r["peak_rss_mib"]) for r in runs)  # type: ignore[arg-type]
        growth = max(float(r["growth_mib"]) for r in runs)  # type: ignore[arg-type]
        lines.append(
            f"| {label} | {runs[0]['rows']:,} | {seconds:.1f} | {rate:,.0f} "
            f"| {float(runs[0]['bytes']) / 1e6:,.1f} | {peak:.0f} | {growth:.1f} |"  # type: ignore[arg-type]
        )
        print(label, runs, flush=True)
    return "\n".join(
        [
            "",
            "Streamed CSV export of the `patients` table (`analytics.exports.CsvExport`), "
            f"{args.repeat} runs per size, each in a fresh process; time and rate are medians, memory the "
            "largest peak RSS and growth over the RSS after Django start-up.",
            "",
            "```sh",
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/il2ld_bench_export "
            f".venv/bin/python bench/export_dataset_bench.py --table patients --site {args.site} "
            f"--repeat {args.repeat}",
            "```",
            "",
            "| rows exported | rows | seconds | rows/s | CSV MB | peak RSS MiB | RSS growth MiB |",
            "|---|---|---|---|---|---|---|",
            *lines,
            "",
            f"Run on {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs shared with other work.",
            "",
        ]
    )


def long_table_report(args: argparse.Namespace) -> str:
    """A long table's export against COPY of the same SQL, in alternating pairs."""
    lines = []
    for label, site in ((f"one site ({args.site})", args.site), ("all sites", "")):
        # COPY and export alternate, so load from other work on the machine hits both alike;
        # the ratio is taken per adjacent pair and the median reported.
        pairs = [
            (run_child("copy", args.table, site), run_child("export", args.table, site)) for _ in range(args.repeat)
        ]
        ratios = sorted(float(e["rows_per_s"]) / float(c["rows_per_s"]) for c, e in pairs)  # type: ignore[arg-type]
        copy_rate = statistics.median(float(c["rows_per_s"]) for c, _ in pairs)  # type: ignore[arg-type]
        export_rate = statistics.median(float(e["rows_per_s"]) for _, e in pairs)  # type: ignore[arg-type]
        export = pairs[0][1]
        assert all(c["rows"] == e["rows"] == export["rows"] for c, e in pairs), pairs
        peak = max(float(e["peak_rss_mib"]) for _, e in pairs)  # type: ignore[arg-type]
        growth = max(float(e["growth_mib"]) for _, e in pairs)  # type: ignore[arg-type]
        lines.append(
            f"| {label} | {export['rows']:,} | {copy_rate:,.0f} | {export_rate:,.0f} "
            f"| **{statistics.median(ratios):.2f}** ({ratios[0]:.2f}–{ratios[-1]:.2f}) "
            f"| {float(export['bytes']) / 1e6:,.1f} | {peak:.0f} | {growth:.1f} |"  # type: ignore[arg-type]
        )
        print(label, pairs, f"ratios {ratios}", flush=True)

    return "\n".join(
        [
            "",
            "## Dataset export (issue 4)",
            "",
            f"Streamed CSV export of the `{args.table}` table (`analytics.exports.CsvExport`, the code behind the "
            "API, the web page and `manage.py export_dataset`) against PostgreSQL's `COPY (SELECT …) TO STDOUT "
            "WITH (FORMAT csv)` of the same SQL, measured in the same run: "
            f"{args.repeat} alternating COPY/export pairs, each run in a fresh process; rates are medians, the "
            "ratio is the median of the per-pair ratios (range in brackets). Memory: the export process's peak "
            "RSS, and its growth over the RSS after Django start-up (the largest over the runs).",
            "",
            "```sh",
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/il2ld_bench_export "
            f".venv/bin/python bench/export_dataset_bench.py --table {args.table} --site {args.site} "
            f"--repeat {args.repeat}",
            "```",
            "",
            "| rows exported | rows | COPY rows/s | export rows/s | export / COPY | CSV MB | peak RSS MiB "
            "| RSS growth MiB |",
            "|---|---|---|---|---|---|---|---|",
            *lines,
            "",
            f"Run on {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs shared with other work.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
