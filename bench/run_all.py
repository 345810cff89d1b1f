"""`make bench`: every benchmark in one run, on a database of the bench's own (issue 18, item 1).

1. The database `<DATABASE_URL's name>_b<patients>` (same server and roles as DATABASE_URL /
   DATABASE_ADMIN_URL) is created, migrated and seeded (`seed_demo --patients N --seed 1
   --as-of 2026-11-01`) unless it already holds that cohort, then vacuumed and analysed.
2. survival (`bench/survival_bench.py`), export (`bench/export_commands_bench.py`), import
   (`bench/import_cohort_bench.py` into `<name>_b<N>_import`, dropped and recreated) and web
   (`bench/load/run_load_test.sh` at each listed user count, then `--users-step` more at a time
   until p95 reaches 200 ms or `--users-max`: the capacity curve; it writes to the bench database:
   saves, dispensings, users) run one after the other, each in its own process.
3. All figures go to `bench/results/bench-<N>.json`; `bench/report_md.py` then rewrites the
   generated section of docs/benchmarks.md from every `bench/results/bench-*.json`.

    .venv/bin/python bench/run_all.py --patients 20000 [--users 20,50] [--only survival,export]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.host import describe as describe_host  # noqa: E402
from bench.host import reference_cpu_s  # noqa: E402
from bench.load.cpu_sampler import window_cpu  # noqa: E402
from bench.measured import db_name, loadavg, median_of, psql, run_measured, with_db  # noqa: E402
from bench.report_md import STEPS  # noqa: E402

PY = sys.executable
AS_OF = "2026-11-01"
OUTPUTS = ("bench/results", "docs/benchmarks.md")  # what a run writes, relative to ROOT


class Bench:
    def __init__(self, patients: int) -> None:
        app, owner = os.environ.get("DATABASE_URL", ""), os.environ.get("DATABASE_ADMIN_URL", "")
        if not app.startswith("postgres"):
            raise SystemExit("make bench needs DATABASE_URL (and DATABASE_ADMIN_URL) on PostgreSQL: source your env.")
        owner = owner or app
        self.name = f"{db_name(app)}_b{patients}"
        self.app_url, self.owner_url = with_db(app, self.name), with_db(owner, self.name)
        self.import_url = with_db(owner, f"{self.name}_import")
        self.patients = patients
        self.env = {**os.environ, "DATABASE_URL": self.app_url, "DATABASE_ADMIN_URL": self.owner_url}
        self.env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"

    def prepare(self) -> dict[str, Any]:
        """Create, migrate and seed the bench database unless it already holds the cohort."""
        exists = psql(with_db(self.owner_url, "postgres"), f"SELECT 1 FROM pg_database WHERE datname = '{self.name}'")
        if not exists:
            psql(with_db(self.owner_url, "postgres"), f'CREATE DATABASE "{self.name}"')
        run_measured([PY, "manage.py", "migrate", "--noinput", "-v0"], env=self.env)
        count = psql(self.app_url, "SELECT count(*) FROM registry_patient")
        if int(count) == self.patients:
            seeded: dict[str, Any] = {"reused": True}
        elif int(count) == 0:
            before = loadavg()
            command = ["manage.py", "seed_demo", "--patients", str(self.patients), "--seed", "1", "--as-of", AS_OF]
            seeded = {
                "reused": False,
                "load_average_before": before,
                **run_measured([PY, *command], env=self.env).figures(),
            }
            seeded["load_average_after"] = loadavg()
            seeded["command"] = " ".join(command)
        else:
            raise SystemExit(f"{self.name} holds {count} patients, not {self.patients}: drop it and run again.")
        # As autovacuum would have left it (this machine's PostgreSQL runs with autovacuum off): the
        # visibility map set, so index-only scans skip the heap as they do in a production database.
        psql(self.owner_url, "VACUUM (ANALYZE)")
        return seeded

    def script(self, *argv: str) -> dict[str, Any]:
        """A bench script with the bench database; its --json report."""
        out = ROOT / "var" / "bench" / f"{Path(argv[0]).stem}-{self.patients}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        run_measured([PY, *argv, "--json", str(out)], env=self.env)
        return json.loads(out.read_text())

    def startup(self, production_python: str | None = None) -> dict[str, Any]:
        """`manage.py check`, median of 5, in the bench's venv and, given `production_python`, in a
        venv holding only production's dependencies (requirements.txt, as the image installs them):
        the bench's venv also holds the test tools (locust, pytest, moto…), and libraries import
        what they find installed (DRF's `rest_framework.compat` imports `requests`, `pygments`
        and `markdown` when present). The two alternate, so the host's drift falls on both.
        Each with its slowest top-level imports (`python -X importtime`)."""
        pythons = {"bench": PY, **({"production": production_python} if production_python else {})}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in pythons}
        for _ in range(5):
            for name, python in pythons.items():
                runs[name].append(run_measured([python, "manage.py", "check"], env=self.env).figures())
        figures = {name: {**median_of(runs[name]), **self.slowest_imports(pythons[name])} for name in pythons}
        result: dict[str, Any] = {"repeats": 5, **figures["bench"]}
        if production_python:
            result["production"] = {"python": production_python, **figures["production"]}
        return result

    def slowest_imports(self, python: str) -> dict[str, Any]:
        trace = run_measured([python, "-X", "importtime", "manage.py", "check"], env=self.env).stderr
        cumulative: dict[str, int] = {}
        for line in trace.splitlines():
            if line.startswith("import time:") and "|" in line and "cumulative" not in line:
                _, cum, name = line.removeprefix("import time:").split("|")
                if not name.startswith("  "):  # top level: one space after the bar, nested ones more
                    cumulative[name.strip()] = int(cum)
        slowest = sorted(cumulative.items(), key=lambda item: -item[1])[:12]
        return {
            "modules_imported": trace.count("import time:") - 1,
            "slowest_imports_ms": {n: round(us / 1000) for n, us in slowest},
        }

    def survival(self) -> dict[str, Any]:
        return self.script("bench/survival_bench.py", "--repeat", "3")

    def export(self) -> dict[str, Any]:
        return self.script("bench/export_commands_bench.py", "--repeat", "3")

    def import_(self) -> dict[str, Any]:
        cohort = ROOT / "var" / "bench" / f"cohort{self.patients}"
        argv = ["--source", self.app_url, "--target", self.import_url, "--patients", str(self.patients)]
        argv += ["--workers", "2"]
        argv += (
            ["--cohort", str(cohort)]
            if (cohort / "patients.csv").exists()
            else ["--no-seed", "--cohort-dir", str(cohort)]
        )
        return self.script("bench/import_cohort_bench.py", *argv)

    def web(self, users: list[int], measure: int, *, step: int, ceiling: int) -> dict[str, Any]:
        """The load test at each listed user count, then upwards by `step` to saturation (`load_curve`)."""
        users_created = False

        def run(count: int) -> dict[str, Any]:
            nonlocal users_created
            out = ROOT / "var" / "bench" / f"load-{self.patients}-u{count}"
            env = {**self.env, "LOAD_DATABASE_URL": self.app_url, "LOAD_DATABASE_ADMIN_URL": self.owner_url}
            env |= {"OUT": str(out), "SETUP": "0" if users_created else "1"}
            run_measured(["bench/load/run_load_test.sh", str(count), str(measure)], env=env)
            users_created = True
            return load_run(out)

        runs = load_curve(users, run, step=step, ceiling=ceiling)
        return {"runs": runs, "step": step, "ceiling": ceiling, **capacity(runs)}


def load_run(out: Path) -> dict[str, Any]:
    summary = json.loads((out / "summary.json").read_text())
    environment = dict(
        line.split("=", 1)
        for line in (out / "environment.txt").read_text().split("\n")
        if "=" in line and " " not in line
    )
    for line in (out / "environment.txt").read_text().splitlines():
        for pair in line.split(" "):
            if "=" in pair:
                environment[pair.split("=", 1)[0]] = pair.split("=", 1)[1]
    samples = [json.loads(line) for line in (out / "cpu.jsonl").read_text().splitlines()]
    for sample in samples:
        for group in ("app", "db", "locust"):
            sample[group] = {int(pid): cpu for pid, cpu in sample[group].items()}
    cpu = window_cpu(samples, summary["started"], summary["stopped"])
    requests = summary["categories"]["all"]["requests"]
    per_request = {group: round(1000 * seconds / requests, 1) if requests else None for group, seconds in cpu.items()}
    window = summary["measured_seconds"]
    return {
        "users": summary["users"],
        "measured_s": window,
        "categories": summary["categories"],
        "endpoints": summary.get("endpoints", {}),
        "cpu_s": cpu,
        "cpu_ms_per_request": per_request,
        # share of the machine's cores that app, database and locust kept busy over the window
        "cpu_busy": round(sum(cpu.values()) / window / (os.cpu_count() or 1), 3) if window else None,
        "statuses": summary["statuses"],
        "load_average_before": environment.get("loadavg_before", "").replace(",", " "),
        "load_average_after": environment.get("loadavg_after", ""),
        "workers": environment.get("workers"),
        "threads": environment.get("threads"),
    }


#: The capacity curve's limit (issue 18): p95 of all requests under this many ms.
CAPACITY_P95_MS = 200


def saturated(run: dict[str, Any]) -> bool:
    """Whether a load run is past the capacity: p95 at or over CAPACITY_P95_MS, or any request failed."""
    every = run["categories"]["all"]
    return every["p95_ms"] is None or every["p95_ms"] >= CAPACITY_P95_MS or bool(every["errors"])


def load_curve(
    listed: list[int], run: Callable[[int], dict[str, Any]], *, step: int, ceiling: int
) -> list[dict[str, Any]]:
    """Runs at every listed user count, then at `step` more users each time until a run saturates
    (`saturated`) or the next count would pass `ceiling`: the curve brackets the capacity."""
    runs = [run(count) for count in listed]
    while runs and not saturated(runs[-1]) and runs[-1]["users"] + step <= ceiling:
        runs.append(run(runs[-1]["users"] + step))
    return runs


def capacity(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Where p95 (all requests) crossed 200 ms, and a projection of throughput to more cores from
    the CPU each request cost (app + database), with the same model applied to this machine to
    check it: here the load generator shares the cores, so its CPU is added to the cost."""
    under = [r["users"] for r in runs if not saturated(r)]
    over = [r["users"] for r in runs if saturated(r) and (not under or r["users"] > max(under))]
    measured = [r["cpu_ms_per_request"] for r in runs if r["cpu_ms_per_request"]["app"]]
    cheapest = min(measured, key=lambda c: c["app"] + c["db"], default=None)
    projection, check = {}, None
    if cheapest:
        cost = cheapest["app"] + cheapest["db"]
        for cores in (2, 4, 16):
            projection[str(cores)] = {
                "max_req_per_s": round(cores * 1000 / cost, 1),
                "users_at_70pct": users_at(cores, cost),
            }
        here = cost + (cheapest["locust"] or 0)
        check = {"cpu_ms_per_request_with_locust": round(here, 1), "users_at_70pct": users_at(2, here)}
    return {
        "highest_users_p95_under_200ms": max(under) if under else None,
        "lowest_users_p95_over_200ms": min(over) if over else None,
        "cpu_ms_per_request_min": cheapest["app"] + cheapest["db"] if cheapest else None,
        "projection": projection,
        "projection_check": check,
    }


def users_at(cores: int, cost_ms: float, utilisation: float = 0.7) -> int:
    """Users that keep `cores` busy at `utilisation` when a request costs `cost_ms` of CPU: each
    asks about once every 1.1 s (think time 0.5-1.5 s, mean 1.0, plus ~0.1 s response)."""
    return int(utilisation * cores * 1000 / cost_ms * 1.1)


def commit_label(root: Path) -> str:
    """The commit measured, `git describe --always`, with `-dirty` when the work tree differs from it.

    The bench's own outputs (OUTPUTS) do not count: a second size run after the first would
    otherwise be labelled dirty by the first's results alone, though the code measured is the
    commit's. Untracked files do not count either, as with `git describe --dirty`.
    """
    described = subprocess.run(
        ["git", "describe", "--always"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    excluded = [f":(exclude){path}" for path in OUTPUTS]
    changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", *excluded], cwd=root, check=False)
    return f"{described}-dirty" if changed.returncode else described


def run_label(report: dict[str, Any]) -> dict[str, Any]:
    """The run a report's figures come from: its date, commit and host speed (None before `bench/host.py`)."""
    reference = report.get("machine", {}).get("reference_cpu_s")
    return {"date_utc": report["date_utc"], "commit": report["commit"], "reference_cpu_s": reference}


def label_earlier_steps(report: dict[str, Any]) -> None:
    """Give each step of an earlier run's report the run it came from, where it does not say yet,
    before this run relabels the report: the steps `--only` leaves out keep their figures and must
    not pass for this run's (`report_md.kept_from_earlier`)."""
    for step in STEPS:
        if step in report and "run" not in report[step]:
            report[step]["run"] = run_label(report)


def compile_bytecode() -> None:
    """Compile the project's modules as the image does (Dockerfile `compileall`), so that no
    measured process compiles ~200 modules from source where PYTHONDONTWRITEBYTECODE is set."""
    subprocess.run([PY, "-m", "compileall", "-q", "-x", r"(^|/)(\.venv[^/]*|node_modules|var)/", str(ROOT)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=int(os.environ.get("BENCH_PATIENTS", 20000)))
    parser.add_argument("--users", default=os.environ.get("BENCH_USERS", "20,50"))
    parser.add_argument(
        "--users-step", type=int, default=int(os.environ.get("BENCH_USERS_STEP", 20)), help="then upwards by this many"
    )
    parser.add_argument(
        "--users-max", type=int, default=int(os.environ.get("BENCH_USERS_MAX", 150)), help="the curve's ceiling"
    )
    parser.add_argument("--measure", type=int, default=int(os.environ.get("BENCH_MEASURE", 60)))
    parser.add_argument("--only", default=",".join(STEPS))
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--production-python",
        default=os.environ.get("BENCH_PRODUCTION_PYTHON") or None,
        help="python of a venv with requirements.txt only (make bench builds .venv-production): start-up there too",
    )
    args = parser.parse_args()
    bench = Bench(args.patients)
    compile_bytecode()
    path = ROOT / "bench" / "results" / f"bench-{args.patients}.json"
    report: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    label_earlier_steps(report)
    report |= {
        "patients": args.patients,
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": commit_label(ROOT),
        "machine": describe_host(),
        "load_average_start": loadavg(),
    }
    report["database"] = bench.prepare()  # this run's database only, never an earlier run's figures
    only = args.only.split(",")
    for step in STEPS:
        if step in only:
            before = loadavg()
            # the host's speed right before the step: on a shared host it drifts within a run
            reference = reference_cpu_s(3)
            if step == "web":
                listed = [int(u) for u in args.users.split(",")]
                result = bench.web(listed, args.measure, step=args.users_step, ceiling=args.users_max)
            elif step == "startup":
                result = bench.startup(args.production_python)
            else:
                result = getattr(bench, "import_" if step == "import" else step)()
            result["load_average"] = f"{before} -> {loadavg()}"
            result["reference_cpu_s"] = reference
            # Each step keeps the run it came from: a later `--only` run relabels the file, not this.
            result["run"] = run_label(report)
            report[step] = result
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=2) + "\n")
            print(f"[bench] {step} done ({result['load_average']})", flush=True)
    if not args.no_docs:
        subprocess.run([PY, "bench/report_md.py"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
