"""CPU time of the load test's three parties, sampled once a second from /proc until stopped:
the app (gunicorn's master and workers), the database (PostgreSQL backends connected to the
load-test database: their process title names it) and the load generator (locust).

    cpu_sampler.py OUT.jsonl GUNICORN_PID_FILE DBNAME PORT      (stop it with SIGTERM)

Each line is {"t": epoch, "app": {pid: cpu_s}, "db": {...}, "locust": {...}}. `window_cpu`
turns the samples into CPU seconds per party over [start, stop]: per process, its CPU at the
last sample before `stop` minus its CPU at the first sample after `start` (0 for a process born
later). PostgreSQL's background processes (WAL writer, checkpointer) are not attributed to any
party, and a backend's CPU after its last sample is lost (at most a second)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float, str]]:
    """pid -> (ppid, cpu seconds, command line) for every process we can read."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, cmdline)
    return found


def sample(master: int, dbname: str, port: str) -> dict[str, dict[int, float]]:
    procs = _processes()
    groups: dict[str, dict[int, float]] = {"app": {}, "db": {}, "locust": {}}
    for pid, (ppid, cpu, cmdline) in procs.items():
        if pid == master or ppid == master:
            groups["app"][pid] = cpu
        elif cmdline.startswith("postgres: ") and f" {dbname} " in cmdline:
            groups["db"][pid] = cpu
        elif "locust" in cmdline and f"127.0.0.1:{port}" in cmdline:
            groups["locust"][pid] = cpu
    return groups


def window_cpu(samples: list[dict], start: float, stop: float) -> dict[str, float]:
    inside = [s for s in samples if start <= s["t"] <= stop]
    out: dict[str, float] = {}
    for group in ("app", "db", "locust"):
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        for index, s in enumerate(inside):
            for pid, cpu in s[group].items():
                if pid not in first:
                    first[pid] = cpu if index == 0 else 0.0
                last[pid] = cpu
        out[group] = round(sum(last[pid] - first[pid] for pid in last), 2)
    return out


def main(out: Path, pid_file: Path, dbname: str, port: str) -> None:
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    while not pid_file.exists() and running[0]:
        time.sleep(0.2)
    master = int(pid_file.read_text().strip())
    with out.open("w") as handle:
        while running[0]:
            handle.write(json.dumps({"t": time.time(), **sample(master, dbname, port)}) + "\n")
            handle.flush()
            time.sleep(1.0)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4])
