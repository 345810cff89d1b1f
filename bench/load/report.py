"""Print one results row (markdown) from a run directory made by run_load_test.sh."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def main(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    cats = summary["categories"]
    env = dict(line.split("=", 1) for line in (run / "environment.txt").read_text().split() if "=" in line)
    print(f"users={summary['users']} measured={summary['measured_seconds']} s loadavg {env.get('loadavg_after')}")
    print("| users | kind | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |")
    for kind in ("view", "save", "all"):
        c = cats[kind]
        print(
            f"| {summary['users']} | {kind} | {c['requests']} | {c['req_per_s']} | {c['p50_ms']} | {c['p95_ms']} "
            f"| {c['p99_ms']} | {c['max_ms']} | {c['errors']} |"
        )
    print("statuses:", summary["statuses"])
    print("saves:", summary["save_outcomes"])
    if summary["failures_sample"]:
        print("failures (sample):", *summary["failures_sample"][:10], sep="\n  ")
    stats = run / "locust_stats.csv"
    if stats.exists():
        print("\nper endpoint (locust, measured window):")
        print("| name | requests | failures | p50 | p95 | p99 | max | avg bytes |")
        for row in csv.DictReader(stats.open()):
            if row["Name"] == "Aggregated":
                continue
            print(
                f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | {row['50%']} | {row['95%']} "
                f"| {row['99%']} | {row['Max Response Time']} | {row['Average Content Size']} |"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
