"""Time single requests of the web pages, one at a time, as the load test's users see them.

Each URL is fetched `--repeat` times through Django's test client, logged in as one load-test
user (with its second factor passed, as after the TOTP check), with the load test's production
settings (`bench.load.settings_load`) against the load-test copy. Prints, as a Markdown table, the
median and the fastest wall time, the median CPU time of this process (the app) and the mean of its
PostgreSQL backend (read from /proc in clock ticks, so the database must run on this machine), the response size,
the status and the number of SQL queries (counted in one extra request, so the timed ones run
without the query log). Wall time is noise on a shared machine; CPU time is the figure to compare.

    . bench/load/env.sh && DJANGO_ALLOWED_HOSTS=testserver \\
        .venv/bin/python bench/load/time_pages.py --user lt-pharm-00 /pharmacy/ /pharmacy/batches/

`--code DIR` runs another checkout's code (e.g. the commit before a change, unpacked with
`git archive`) against the same database, for before/after timings. `--profile FILE` writes a
cProfile (in CPU time) of all the timed requests (read it with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.load.profile_layers import signed_in_client

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu_ms(pid: int) -> float:
    """User + system CPU of a PostgreSQL backend so far, from /proc/<pid>/stat (ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--user", default="lt-clin-00")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", default=str(Path(__file__).resolve().parents[2]), help="checkout to run")
    parser.add_argument("--profile", default="", help="write a cProfile of the timed requests here")
    args = parser.parse_args()

    sys.path.insert(0, args.code)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.settings_load")
    import django

    django.setup()
    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    request_started.disconnect(reset_queries)  # it would empty the log that counts the queries
    client = signed_in_client(args.user)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
    print(f"code: {args.code}  user: {args.user}  repeat: {args.repeat}  loadavg: {os.getloadavg()}")
    print("| URL | median ms | fastest ms | app CPU ms | DB CPU ms | status | bytes | queries |")
    print("|---|---|---|---|---|---|---|---|")
    for url in args.urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url).getvalue()  # also warms the caches of this process
        count = len(queries)
        times: list[float] = []
        app: list[float] = []
        db: list[float] = []
        for _ in range(args.repeat):
            db_before, cpu_before, start = backend_cpu_ms(backend), time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            response = client.get(url)
            body = response.getvalue()  # streamed or not
            if profiler:
                profiler.disable()
            times.append((time.perf_counter() - start) * 1000)
            app.append((time.process_time() - cpu_before) * 1000)
            db.append(backend_cpu_ms(backend) - db_before)
        print(
            f"| `{url}` | {statistics.median(times):,.0f} | {min(times):,.0f} | {statistics.median(app):,.1f} | "
            f"{sum(db) / len(db):,.1f} | {response.status_code} | {len(body):,} | {count} |",
            flush=True,
        )
    if profiler:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
