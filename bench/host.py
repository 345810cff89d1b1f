"""The host a bench ran on, and how fast its CPU was during the run (issue 18, item 1).

Sessions of "the same kind of machine" are not equally fast: the same commit's `manage.py
check` took 0.58 s on one and 1.39 s on another, a day apart, both idle. Absolute times (web
p95, start-up, rows a second) from different runs can only be compared through the host's own
speed, so every run records its CPU and times a fixed, Django-free reference workload (JSON,
integer and string work, a sort, a regular expression: the kinds of work a request does) in a
fresh interpreter. Its CPU time is the run's yardstick: a run whose reference took twice as long
ran on a host twice as slow. Ratios measured side by side in one run (export, import, analysis
against their raw floors) need no such correction.

The interpreter counts as part of the host: the reference runs in the bench's own Python, and
a CPython built without profile-guided and link-time optimisation (pyenv's default build) took
about a quarter longer over the reference workload than one built with them (Debian's, and the
production image's; docs/benchmarks.md), so the run also records which interpreter it was.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

from bench.measured import run_measured

#: Fixed forever: changing it would break the comparison with every earlier run.
REFERENCE_WORKLOAD = """\
import json, re
rows = [{"study_id": f"GB-LON-{i:05d}", "total": i % 49, "site": "GB-LON", "dose": i * 0.5} for i in range(20_000)]
for _ in range(5):
    text = json.dumps(rows)
    json.loads(text)
total = 0
for i in range(2_000_000):
    total += i % 7
ordered = sorted(f"{i * 7919 % 100_003:06d}" for i in range(200_000))
found = len(re.findall(r"GB-LON-0\\d{4}", text))
"""


def cpu_model(cpuinfo: str) -> tuple[str, float | None]:
    """The CPU's model name and its clock in MHz as /proc/cpuinfo states them (first core)."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    mhz = fields.get("cpu MHz")
    return fields.get("model name", platform.processor() or "unknown"), float(mhz) if mhz else None


def reference_cpu_s(repeats: int) -> float:
    """The reference workload's CPU time in a fresh interpreter, the median of `repeats` runs."""
    times = sorted(run_measured([sys.executable, "-c", REFERENCE_WORKLOAD]).cpu_s for _ in range(repeats))
    return round(times[len(times) // 2], 3)


def describe(repeats: int = 5) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo")
    model, mhz = cpu_model(cpuinfo.read_text() if cpuinfo.exists() else "")
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "python_executable": os.path.realpath(sys.executable),  # which build: see the module's docstring
        "cpu_model": model,
        "cpu_mhz": mhz,
        "reference_cpu_s": reference_cpu_s(repeats),
        "reference_repeats": repeats,
    }
