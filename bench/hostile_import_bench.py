"""Benchmark: peak memory of `manage.py import_cohort` on hostile inputs (issue 14, item 4).

Each input is a cohort zip holding the clean fixture cohort (tests/fixtures/rif/clean) with one
hostile member; each import runs as its own process under GNU time (bench/measured.py), so the
peak resident memory is the command's own. Inputs:

* ``long-line``: alsfrs_r.csv is one line of 1 GB (a few MB packed). With the default limits it
  is refused unread (compression ratio); with the ratio limit lifted
  (``IMPORT_MAX_COMPRESSION_RATIO=1000000``) the scan reads until the line passes
  ``IMPORT_MAX_LINE_BYTES`` and stops.
* ``empty-rows``: alsfrs_r.csv is 3.5 million rows of commas (50 MB, about 50 KB packed). With the
  defaults it is refused unread; with the ratio limit lifted every row is read and the report
  holds one line for them all ("lines 7-…: empty row ignored").
* ``clean``: the fixture cohort as it is, for comparison.

Usage (a migrated database the command may write import runs to; the sites GB-LON and GB-SHF are
created if missing):

    source /work/wt/hardening.env   # or any DATABASE_URL / DATABASE_ADMIN_URL
    .venv/bin/python bench/hostile_import_bench.py [--work DIR]

Prints a Markdown table (input, limits, seconds, peak RSS MB, report lines, outcome) and writes
the figures as JSON next to the inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measured import loadavg, run_measured  # noqa: E402

CLEAN = ROOT / "tests" / "fixtures" / "rif" / "clean"
PYTHON = sys.executable
GIB = 1024**3
LIFTED = {"IMPORT_MAX_COMPRESSION_RATIO": "1000000"}


def _write_cohort(target: Path, hostile: tuple[str, object] | None) -> Path:
    """The clean cohort as a zip; `hostile` is (member, writer(stream)) for the member replaced."""
    if target.exists():
        return target
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(CLEAN.glob("*.csv")):
            if hostile is not None and path.name == hostile[0]:
                with archive.open(path.name, "w", force_zip64=True) as stream:
                    hostile[1](stream)  # type: ignore[operator]
            else:
                archive.write(path, path.name)
    return target


def _long_line(stream: object) -> None:
    header = (CLEAN / "alsfrs_r.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    stream.write(header + b"GB-LON-0001,")  # type: ignore[attr-defined]
    block = b"x" * (1 << 20)
    for _ in range(GIB // len(block)):
        stream.write(block)  # type: ignore[attr-defined]


def _empty_rows(stream: object) -> None:
    header = (CLEAN / "alsfrs_r.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    stream.write(header)  # type: ignore[attr-defined]
    row = b"," * header.count(b",") + b"\n"
    for _ in range(350):
        stream.write(row * 10_000)  # type: ignore[attr-defined]


def _manage(*args: str, env: dict[str, str]) -> None:
    run_measured([PYTHON, "manage.py", *args], env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "il2ld-hostile-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    _manage("migrate", "--no-input", "-v", "0", env=env)
    sites = (
        "from registry.models import Site\n"
        "for code, name in (('GB-LON', 'London MND Care Centre'), ('GB-SHF', 'Sheffield MND Care Centre')):\n"
        "    Site.objects.get_or_create(code=code, defaults={'name': name})\n"
    )
    _manage("shell", "-c", sites, env=env)
    inputs = {
        "clean": _write_cohort(args.work / "clean.zip", None),
        "long-line": _write_cohort(args.work / "long-line.zip", ("alsfrs_r.csv", _long_line)),
        "empty-rows": _write_cohort(args.work / "empty-rows.zip", ("alsfrs_r.csv", _empty_rows)),
    }
    cases = [
        ("clean", {}),
        ("long-line", {}),
        ("long-line", LIFTED),
        ("empty-rows", {}),
        ("empty-rows", LIFTED),
    ]
    print(f"load average at the start: {loadavg()}")
    print("| input | packed | limits | s | peak RSS MB | report lines | alsfrs_r.csv in the report |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for name, extra in cases:
        path = inputs[name]
        report = args.work / f"{name}-{'lifted' if extra else 'default'}-report.csv"
        measured = run_measured(
            [PYTHON, "manage.py", "import_cohort", str(path), "--no-progress", "--report", str(report)],
            env={**env, **extra},
        )
        lines = report.read_text(encoding="utf-8").splitlines()
        about = next((line for line in lines if ",alsfrs_r.csv," in line), "(nothing)")
        limits = ", ".join(f"{k}={v}" for k, v in extra.items()) or "defaults"
        print(
            f"| {name} | {path.stat().st_size / 1024:,.0f} KB | {limits} | {measured.wall_s:.1f} | "
            f"{measured.peak_rss_mb:.0f} | {len(lines)} | {about[:140]} |"
        )
        results.append({"input": name, "limits": limits, "report_lines": len(lines), **measured.figures()})
    print(f"load average at the end: {loadavg()}")
    (args.work / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
