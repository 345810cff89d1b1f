"""Rewrite the generated section of docs/benchmarks.md from bench/results/bench-*.json (made by
`make bench`). Everything between the two marker lines is replaced; the rest of the file is
kept as written."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- make bench: generated section begins (bench/report_md.py); edits here are overwritten -->"
END = "<!-- make bench: generated section ends -->"

RAW_SIDE = {
    "load": "`COPY (SELECT …) TO STDOUT (FORMAT csv)` of every SELECT the loader runs, each parsed into native "
    "types by pyarrow's CSV reader, + the dates of birth decrypted with `cryptography`",
    "derive": "the same code (the dataset's derivations: no library does them)",
    "prepare": "the same code (no library does it)",
    "kaplan_meier": "lifelines `KaplanMeierFitter`, the same curves",
    "logrank": "lifelines `multivariate_logrank_test`, the same tests",
    "cox": "lifelines `CoxPHFitter` + `lifelines.utils.concordance_index` + the project's own PH test "
    "(the same on both sides)",
    "one_sample": "the same code (no library does it)",
    "encals": "the same code (no library does it)",
    "slopes": "the same code (no library does it)",
    "emulation": "lifelines fits of the same models on the same analysis sets (no imputation step)",
}


#: The benchmarks `make bench` runs, in the order it runs them (bench/run_all.py).
STEPS = ("startup", "survival", "export", "import", "web")
#: The web target's user count (issue 18: p95 < 100 ms at 50 users).
TARGET_USERS = 50


def met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    return f"{round(value):,}" if isinstance(value, int | float) else str(value)


def targets(r: dict[str, Any]) -> list[str]:
    lines = ["| target (issue 18) | measured | |", "|---|---|---|"]
    if s := r.get("survival"):
        lines.append(
            f"| analysis ≤ 1.2 × the raw floor | {s['ratio']:.2f} × ({s['ours_s']:.1f} s against {s['raw_s']:.1f} s) "
            f"| {met(s['ratio'] <= 1.2)} |"
        )
    if e := r.get("export"):
        for table, t in e["tables"].items():
            if "ratio" in t:
                lines.append(
                    f"| export `{table}` ≥ 0.8 × native COPY, whole commands | {t['ratio']:.3f} × "
                    f"({t['ours']['wall_s']:.2f} s against {t['copy']['wall_s']:.2f} s) | {met(t['ratio'] >= 0.8)} |"
                )
    if i := r.get("import"):
        rate = i["import"]["accepted_rows_per_second"]
        lines.append(f"| import ≥ 50,000 accepted rows/s | {rate:,} rows/s | {met(rate >= 50_000)} |")
    if w := r.get("web"):
        for run in w["runs"]:
            if run["users"] == TARGET_USERS:
                p95 = {k: run["categories"][k]["p95_ms"] for k in ("view", "save")}
                ok = all(v is not None and v < 100 for v in p95.values())
                lines.append(
                    f"| web p95 < 100 ms at 50 users | views {p95['view']} ms, saves {p95['save']} ms | {met(ok)} |"
                )
    if st := r.get("startup"):
        assessed = st.get("production", st)
        ok = assessed["wall_s"] < 0.5 and assessed["peak_rss_mb"] < 100
        figure = f"{assessed['wall_s']:.2f} s, {assessed['peak_rss_mb']:.0f} MB"
        if "production" in st:
            figure += (
                f" with production's dependencies ({st['wall_s']:.2f} s, {st['peak_rss_mb']:.0f} MB "
                "in the bench's venv, test tools included)"
            )
        lines.append(f"| `manage.py check` < 0.5 s and < 100 MB | {figure} | {met(ok)} |")
    return lines


def startup(st: dict[str, Any]) -> list[str]:
    def figures(f: dict[str, Any]) -> str:
        slowest = ", ".join(f"`{name}` {ms:,} ms" for name, ms in list(f["slowest_imports_ms"].items())[:6])
        modules = f"{f['modules_imported']:,} modules imported; " if "modules_imported" in f else ""
        return (
            f"{f['wall_s']:.2f} s (CPU {f['cpu_s']:.2f} s), peak RSS {f['peak_rss_mb']:.0f} MB; {modules}"
            f"slowest top-level imports (`python -X importtime manage.py check`, cumulative): {slowest}"
        )

    head = f"**Start-up**: `manage.py check`, median of {st['repeats']}"
    if "production" not in st:
        return [f"{head}: {figures(st)}. Load average {st['load_average']}."]
    return [
        f"{head} each, the two venvs alternating (load average {st['load_average']}); the target is read on "
        "production's:",
        "",
        f"- with production's dependencies only (`requirements.txt`, as the image installs them; "
        f"`{st['production']['python']}`): {figures(st['production'])};",
        f"- in the bench's venv (`requirements-dev.txt`: the test and load tools too, which some libraries "
        f"import when they are installed, as DRF's `rest_framework.compat` imports `requests`): {figures(st)}.",
    ]


def survival(s: dict[str, Any]) -> list[str]:
    lines = [
        f"**Survival** (`bench/survival_bench.py --repeat {s['repeats']}`, medians; {s['patients']:,} patients, "
        f"{s['alsfrs_visits']:,} ALSFRS-R visits; load average {s['load_average']}).",
        "",
        "| step | ours s | raw s | the raw side |",
        "|---|---|---|---|",
    ]
    for step, t in s["steps"].items():
        lines.append(f"| {step} | {t['ours_s']:.2f} | {t['raw_s']:.2f} | {RAW_SIDE.get(step, '')} |")
    lines += [
        f"| **total** | **{s['ours_s']:.2f}** | **{s['raw_s']:.2f}** | ratio **{s['ratio']:.2f}** |",
        "",
        f"In process CPU time (this process only: PostgreSQL's share of the load is not in it) the totals are "
        f"{s['ours_cpu_s']:.2f} s against {s['raw_cpu_s']:.2f} s, ratio {s['cpu_ratio']:.2f}; "
        "per step: "
        + ", ".join(f"{k} {t['ours_cpu_s']:.2f}/{t['raw_cpu_s']:.2f}" for k, t in s["steps"].items())
        + " (ours/raw s).",
        "",
        f"Figures (the run's drawn figures, ours only): {s['figures_s']:.2f} s. The whole command, "
        f"`manage.py run_survival --recompute` (start-up, load, suite, figures, save; never a cached result): "
        f"**{s['whole_command']['wall_s']:.1f} s**, CPU {s['whole_command']['cpu_s']:.1f} s, "
        f"peak RSS {s['whole_command']['peak_rss_mb']:.0f} MB. COPY read {s['copied_mb']} MB.",
    ]
    return lines


def export(e: dict[str, Any]) -> list[str]:
    lines = [
        "**Export** (`bench/export_commands_bench.py`, medians of 3 alternating pairs; "
        f"load average {e['load_average']}). "
        "Ours: `manage.py export_dataset FILE --table T` (every patient). Raw: "
        '`psql -c "\\copy (SELECT …) TO FILE CSV HEADER"` of the exporter\'s own query with the columns in their '
        "native types. Both whole processes, start-up included. Ratio = COPY's time / ours.",
        "",
        "| table | rows | ours s | ours CPU s | ours peak RSS MB | COPY s | COPY peak RSS MB | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for table, t in e["tables"].items():
        c = t.get("copy", {})
        lines.append(
            f"| {table} | {t['rows']:,} | {t['ours']['wall_s']:.2f} | {t['ours']['cpu_s']:.2f} | "
            f"{t['ours']['peak_rss_mb']:.0f} | {fmt(c.get('wall_s'), 2)} | {fmt(c.get('peak_rss_mb'))} | "
            f"{fmt(t.get('ratio'), 3)} |"
        )
    lines.append("")
    lines.append("The patient table is derived in pandas and has no COPY counterpart: its time is shown alone.")
    return lines


def import_(i: dict[str, Any]) -> list[str]:
    first, copy = i["import"], i["copy_from"]
    rate = first["accepted_rows_per_second"]
    return [
        f"**Import** (`bench/import_cohort_bench.py --workers {first['workers']}`: the cohort exported from the bench "
        "database with `export_cohort`, imported with `manage.py import_cohort` into a fresh migrated database; "
        f"load average {i['load_average']}).",
        "",
        "| | rows | s | rows/s | CPU s | peak RSS MB |",
        "|---|---|---|---|---|---|",
        f"| `import_cohort` (accepted, each with its history row) | {first['accepted_rows']:,} of {first['rows']:,} "
        f"({first['rejected']:,} rejected) | {first['seconds']:.1f} | **{rate:,}** | {first['process_cpu_seconds']} "
        f"| {first['peak_rss_mb']} + {first['largest_worker_peak_rss_mb']} per worker |",
        f"| `psql \\copy … FROM` of the same files into text tables, no indexes | {copy['rows']:,} | "
        f"{copy['wall_s']:.1f} | {copy['rows_per_second']:,} | {copy['cpu_s']:.1f} (psql) "
        f"| {copy['peak_rss_mb']:.0f} |",
        *schema_floor_row(i),
        f"| re-import of the same folder (nothing changes) | {i['reimport']['rows']:,} | "
        f"{i['reimport']['seconds']:.1f} | {i['reimport']['rows_per_second']:,} "
        f"| {i['reimport']['process_cpu_seconds']} | {fmt(i['reimport'].get('peak_rss_mb'))} |",
        "",
        f"Import / COPY FROM: {rate / copy['rows_per_second']:.3f}.{schema_floor_ratio(i)} Every row has one history "
        f"row: {i['every_row_has_one_history_row']}; "
        f"the re-import changed nothing: {i['reimport']['nothing_changed']}.",
    ]


def schema_floor_row(i: dict[str, Any]) -> list[str]:
    """What the registry's own tables cost to write, with no validation: a run before this figure existed has none."""
    if not (floor := i.get("copy_into_schema")):
        return []
    return [
        f"| `psql \\copy … FROM` of every row the import wrote ({floor['rows']:,} rows in {floor['tables']} tables: "
        "the records, their history rows, the queries and cases its rules raised), binary, into the registry's own "
        "tables as the import found them (indexes, constraints, foreign keys checked at the commit), one stream, one "
        f"transaction | {i['import']['accepted_rows']:,} accepted | {floor['wall_s']:.1f} "
        f"| {floor['accepted_rows_per_second']:,} | {floor['cpu_s']:.1f} (psql) | {floor['peak_rss_mb']:.0f} |"
    ]


def schema_floor_ratio(i: dict[str, Any]) -> str:
    if not (floor := i.get("copy_into_schema")):
        return ""
    ratio = i["import"]["accepted_rows_per_second"] / floor["accepted_rows_per_second"]
    return f" Import / COPY into the registry's tables: {ratio:.2f}."


def web(w: dict[str, Any]) -> list[str]:
    lines = [
        "**Web** (`bench/load/run_load_test.sh USERS SECONDS`: gunicorn, locust on the same 2 cores, 0.5–1.5 s "
        "think time, clinicians 4 : pharmacists 1; CPU sampled from /proc over the measured window).",
        "",
        "| users | workers×threads | req/s | views p50/p95/p99 ms | saves p50/p95/p99 ms | errors "
        "| CPU ms/request app / DB / locust | cores busy | load average before → after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in w["runs"]:
        v, s, a, c = (
            run["categories"]["view"],
            run["categories"]["save"],
            run["categories"]["all"],
            run["cpu_ms_per_request"],
        )
        busy = f"{run['cpu_busy']:.0%}" if run.get("cpu_busy") is not None else "–"
        lines.append(
            f"| {run['users']} | {run['workers']}×{run['threads']} | {a['req_per_s']} | {v['p50_ms']}/{v['p95_ms']}/"
            f"{v['p99_ms']} | {s['p50_ms']}/{s['p95_ms']}/{s['p99_ms']} | {a['errors']} | {c['app']} / {c['db']} / "
            f"{c['locust']} | {busy} | {run['load_average_before']} → {run['load_average_after']} |"
        )
    shown = endpoints_run(w["runs"])
    lines += [
        "",
        f"Per endpoint at {shown['users']} users (p50 / p95 / p99 ms, requests):",
        "",
        "| endpoint | p50 | p95 | p99 | requests |",
        "|---|---|---|---|---|",
    ]
    for name, e in shown["endpoints"].items():
        lines.append(f"| {name} | {e['p50_ms']} | {e['p95_ms']} | {e['p99_ms']} | {e['requests']} |")
    cost = w.get("cpu_ms_per_request_min")
    lines += ["", capacity_sentence(w)]
    if cost:
        lines += [
            "",
            f"Capacity on paper from the CPU one request costs (app + database, {cost:.1f} ms at best here): "
            "a core serves 1000 / cost requests a second; a user asks about once every 1.1 s (1.0 s mean think "
            "time + response); at 70 % utilisation queues stay short. Locust's own CPU is left out (it is not "
            "on a production server). Contention makes the per-request cost higher on a busy 2-core machine than "
            "on dedicated cores, so the projection errs low.",
            "",
            "| cores | max req/s | users at 70 % |",
            "|---|---|---|",
        ]
        for cores, p in w["projection"].items():
            lines.append(f"| {cores} | {p['max_req_per_s']} | {p['users_at_70pct']} |")
    if check := w.get("projection_check"):
        lines += [
            "",
            f"The projection checked on this machine: the same model, with locust's CPU added to each request "
            f"({check['cpu_ms_per_request_with_locust']:.1f} ms, as it shares these 2 cores), gives "
            f"**{check['users_at_70pct']} users** at 70 % of 2 cores. {measured_bracket(w)}",
        ]
    return lines


def endpoints_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run whose endpoints are listed: the target's 50 users where measured (the curve goes on
    past saturation, where every endpoint is slow), else the last run."""
    return next((r for r in runs if r["users"] == TARGET_USERS), runs[-1])


def capacity_sentence(w: dict[str, Any]) -> str:
    """The capacity curve's result: the highest user count under 200 ms, and the first over it."""
    counts = ", ".join(str(r["users"]) for r in w["runs"])
    under, over = w.get("highest_users_p95_under_200ms"), w.get("lowest_users_p95_over_200ms")
    text = f"Highest user count measured with p95 (all requests) under 200 ms: **{fmt(under)}** (of {counts})"
    if over is not None:
        return f"{text}; at **{over}** users p95 reached 200 ms (or a request failed): the capacity lies between."
    if "ceiling" in w:
        return f"{text}; p95 stayed under 200 ms up to the curve's ceiling of {w['ceiling']} users."
    return f"{text}; the curve stopped before p95 reached 200 ms, so the capacity is at least that."


def measured_bracket(w: dict[str, Any]) -> str:
    """What the curve measured against the projection: how busy the cores were on either side of 200 ms."""
    by_users = {r["users"]: r for r in w["runs"]}
    parts = []
    for key, verb in (("highest_users_p95_under_200ms", "stayed under"), ("lowest_users_p95_over_200ms", "reached")):
        run = by_users.get(w.get(key))
        if run is not None:
            busy = f", the cores {run['cpu_busy']:.0%} busy" if run.get("cpu_busy") is not None else ""
            parts.append(f"at {run['users']} users p95 {verb} 200 ms ({run['categories']['all']['p95_ms']} ms{busy})")
    return ("Measured: " + "; ".join(parts) + ".") if parts else ""


# Issue 18, item 6: how each command's peak RSS may grow with the data it handles.
FLAT = "flat in the data size"
PROPORTIONAL = "at most proportional to the analysed data"
FLAT_TOLERANCE = 1.25  # "flat": the larger size's peak at most this many times the smaller's


def peaks(r: dict[str, Any]) -> dict[str, tuple[str, float, float, str]]:
    """Each command's (expectation, peak RSS MB, data size, unit of the data size) in one run's report."""
    out: dict[str, tuple[str, float, float, str]] = {}
    if st := r.get("startup"):
        out["`manage.py check`"] = (FLAT, st["peak_rss_mb"], r["patients"], "patients")
    if s := r.get("survival"):
        whole = s["whole_command"]["peak_rss_mb"]
        out["`manage.py run_survival --recompute`"] = (PROPORTIONAL, whole, s["copied_mb"], "MB read by COPY")
    for table, t in r.get("export", {}).get("tables", {}).items():
        out[f"`manage.py export_dataset --table {table}`"] = (FLAT, t["ours"]["peak_rss_mb"], t["rows"], "rows")
    if i := r.get("import"):
        rows = sum(i.get("file_rows", {}).values())
        if "export_peak_rss_mb" in i:
            out["`manage.py export_cohort`"] = (FLAT, i["export_peak_rss_mb"], rows, "rows")
        for run, name in (("import", "`manage.py import_cohort`"), ("reimport", "the same import again")):
            if "peak_rss_mb" in i[run]:
                out[f"{name}, main process"] = (FLAT, i[run]["peak_rss_mb"], i[run]["rows"], "rows")
                worker = i[run]["largest_worker_peak_rss_mb"]
                out[f"{name}, largest worker"] = (FLAT, worker, i[run]["rows"], "rows")
    return out


def growth(expected: str, smaller: tuple[float, float], larger: tuple[float, float]) -> str:
    """Whether the peak RSS (MB, data size) at two sizes grew as `expected` allows, with the figures."""
    (rss_s, data_s), (rss_l, data_l) = smaller, larger
    if not (rss_s and data_s):
        return "–"  # nothing measured at the smaller size
    by, data_by = rss_l / rss_s, data_l / data_s
    ok = by <= FLAT_TOLERANCE if expected == FLAT else by <= data_by
    return f"{met(ok)}: the peak × {by:.2f} for × {data_by:.2f} the data"


def memory(reports: list[dict[str, Any]]) -> list[str]:
    """Peak RSS of every command at every size, and whether it grew as issue 18 asks between the
    smallest and the largest size measured."""
    sizes = sorted(reports, key=lambda r: r["patients"])
    measured = [peaks(r) for r in sizes]
    lines = [
        "### Memory: peak RSS of each command (issue 18, item 6)",
        "",
        f'Peak resident memory of the command\'s own process (MB), with the data it handled. "{FLAT}" is met '
        f'when the peak at the largest size is at most {FLAT_TOLERANCE} × the peak at the smallest; "{PROPORTIONAL}" '
        "when the peak grew by no more than the data did.",
        "",
        "| command | expected | " + " | ".join(f"{r['patients']:,} patients" for r in sizes) + " | |",
        "|---|---|" + "---|" * len(sizes) + "---|",
    ]
    for command in dict.fromkeys(name for m in measured for name in m):
        cells = [m.get(command) for m in measured]
        known = [c for c in cells if c]
        shown = [f"{c[1]:.0f} MB ({fmt(c[2])} {c[3]})" if c else "–" for c in cells]
        verdict = "needs two sizes"
        if len(sizes) > 1 and cells[0] and cells[-1]:
            verdict = growth(known[0][0], cells[0][1:3], cells[-1][1:3])
        lines.append(f"| {command} | {known[0][0]} | " + " | ".join(shown) + f" | {verdict} |")
    if len(sizes) < 2:
        lines += ["", "Only one size measured so far: whether the peaks are flat is judged once a second size is in."]
    return lines


def host(machine: dict[str, Any]) -> str:
    """The host's CPU and its reference workload's time (bench/host.py): how runs compare across hosts."""
    if "reference_cpu_s" not in machine:
        return (
            "Host: not recorded (a run from before `bench/host.py`); compare its absolute times with "
            "later runs' with care."
        )
    clock = f", {machine['cpu_mhz']:,.0f} MHz" if machine.get("cpu_mhz") else ""
    interpreter = f" (`{machine['python_executable']}`)" if machine.get("python_executable") else ""
    return (
        f"Host: {machine['cpu_model']}{clock}, Python {machine['python']}{interpreter}; the reference workload "
        f"(`bench/host.py`, median of {machine['reference_repeats']}) took **{machine['reference_cpu_s']:.2f} s** "
        "of CPU: absolute times scale with it between runs."
    )


def step_references(r: dict[str, Any]) -> str:
    """The reference workload timed again before each step (median of 3), where the run did: the
    host's speed drifts within a run when it is shared, and the web step is the most exposed."""
    timed = [(step, r[step]["reference_cpu_s"]) for step in STEPS if r.get(step, {}).get("reference_cpu_s")]
    if not timed:
        return ""
    return " Before each step it took " + ", ".join(f"{s:.2f} s ({step})" for step, s in timed) + "."


def kept_from_earlier(r: dict[str, Any], step: str) -> list[str]:
    """A note before a step's figures when they come from an earlier run than the section's own
    (`make bench BENCH_ONLY=...` reruns some steps and keeps the others' figures)."""
    run = r[step].get("run")
    if not run or (run["date_utc"], run["commit"]) == (r["date_utc"], r["commit"]):
        return []
    reference = f"{run['reference_cpu_s']:.2f} s" if run.get("reference_cpu_s") else "not recorded"
    return [
        f"*Kept from an earlier run ({run['date_utc']} UTC, commit {run['commit']}, reference workload "
        f"{reference}): the run above did not repeat this step.*",
        "",
    ]


def section(r: dict[str, Any]) -> list[str]:
    lines = [
        f"### {r['patients']:,} patients: `make bench BENCH_PATIENTS={r['patients']}` ({r['date_utc']} UTC, "
        f"commit {r['commit']}, {r['machine']['nproc']} cores; "
        f"load average at the start {r['load_average_start']})",
        "",
        host(r["machine"]) + step_references(r),
        "",
    ]
    db = r.get("database", {})
    if "seed_wall_s" in db:
        lines += [
            f"Database: `{db['seed_command']}`, seeded in {db['seed_wall_s']:.0f} s, peak RSS "
            f"{db['seed_peak_rss_mb']:.0f} MB (load average {db['seed_load_average']}).",
            "",
        ]
    elif db.get("reused"):
        lines += [
            f"Database: reused, already holding the cohort of `seed_demo --patients {r['patients']} --seed 1 "
            "--as-of 2026-11-01` (seeded by an earlier run; `VACUUM (ANALYZE)` before the benchmarks, "
            "as autovacuum would have left it).",
            "",
        ]
    elif "wall_s" in db:
        lines += [
            f"Database: `{db['command']}`, seeded in {db['wall_s']:.0f} s, peak RSS {db['peak_rss_mb']:.0f} MB.",
            "",
        ]
    lines += [*targets(r), ""]
    for key, render in (("survival", survival), ("export", export), ("import", import_), ("web", web)):
        if key in r:
            lines += [*kept_from_earlier(r, key), *render(r[key]), ""]
    if st := r.get("startup"):
        lines += [*kept_from_earlier(r, "startup"), *startup(st), ""]
    return lines


def main() -> None:
    results = sorted((ROOT / "bench" / "results").glob("bench-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    body = [BEGIN, "", "## Figures from `make bench` (issue 18)", ""]
    body += [
        "Every figure in this section comes from one `make bench` run per size (commands in `bench/run_all.py`); "
        "the JSON behind it is `bench/results/bench-<patients>.json`. The machine has 2 cores, which other "
        "sessions may share, so absolute times are noisy: compare the two sides of each ratio, which were "
        "measured side by side in the same run, and read the load averages. Hosts of the same kind differ "
        "in speed too: each run times a fixed reference workload (`bench/host.py`), and absolute times "
        "(start-up, rows a second, web latency) of two runs compare only through it.",
        "",
    ]
    reports = [json.loads(path.read_text()) for path in results]
    for report in reports:
        body += section(report)
    if reports:
        body += [*memory(reports), ""]
    body.append(END)
    text = DOC.read_text()
    if BEGIN in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
    else:
        marker = "\n## "
        cut = text.index(marker) + 1
        before, after = text[:cut], "\n\n" + text[cut:]
    DOC.write_text(before + "\n".join(body) + after)
    print(f"{DOC} updated from {', '.join(p.name for p in results)}", file=sys.stderr)


if __name__ == "__main__":
    main()
