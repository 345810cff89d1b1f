"""Run a command in its own process and measure it: wall time, CPU (user + system, with the
processes it waited for) from the kernel's accounting of that one child (`os.wait4`), so nothing
else on the machine is counted, and peak resident memory as GNU time reports it (`/usr/bin/time
-f %M`: a child forked from this Python process would otherwise count the parent's pages it had
before `exec` in its own maximum). Also the one way a bench script hands over its report
(`print_report`)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    returncode: int

    def figures(self) -> dict[str, Any]:
        return {k: round(v, 3) for k, v in asdict(self).items() if k in ("wall_s", "cpu_s", "peak_rss_mb")}


def median_of(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Each figure's own median over the runs."""
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def with_db(url: str, name: str) -> str:
    """The database URL `url` with its database name replaced by `name`."""
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def db_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def psql(url: str, sql: str) -> str:
    """One statement through psql, its rows as psql prints them unaligned (`|` between columns)."""
    out = subprocess.run(["psql", "-X", "-qtA", url, "-c", sql], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def print_report(report: dict[str, Any], path: Path | None) -> None:
    """A bench script's report: printed as JSON and, with --json FILE, written there too."""
    text = json.dumps(report, indent=2)
    if path:
        path.write_text(text)
    print(text)


def run_measured(argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT, check: bool = True) -> Measured:
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("w+") as rss,
    ):
        start = time.perf_counter()
        timed = ["/usr/bin/time", "-q", "-f", "%M", "-o", rss.name, *argv]
        process = subprocess.Popen(timed, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Measured(
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=int(Path(rss.name).read_text().split()[-1] or 0) / 1024,
            stdout=out.read(),
            stderr=err.read(),
            returncode=process.returncode,
        )
    if check and result.returncode != 0:
        output = result.stdout[-2000:] + result.stderr[-4000:]
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{output}")
    return result
