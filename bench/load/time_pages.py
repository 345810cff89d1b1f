"""Time single requests of the web pages, one at a time, as the load test's users see them.

Each URL is fetched `--repeat` times through Django's test client, logged in as one load-test
user, with the load test's production settings (`bench.load.settings_load`) against the
load-test copy; prints the median and the fastest wall time, the response size, the status and
the number of SQL queries, as a Markdown table.

    . bench/load/env.sh && DJANGO_ALLOWED_HOSTS=testserver \\
        .venv/bin/python bench/load/time_pages.py --user lt-pharm-00 /pharmacy/ /pharmacy/batches/

`--code DIR` runs another checkout's code (e.g. the commit before a change, unpacked with
`git archive`) against the same database, for before/after timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--user", default="lt-clin-00")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", default=str(Path(__file__).resolve().parents[2]), help="checkout to run")
    args = parser.parse_args()

    sys.path.insert(0, args.code)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.settings_load")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from registry.models import User

    client = Client()
    client.force_login(User.objects.get(username=args.user))
    print(f"code: {args.code}  user: {args.user}  repeat: {args.repeat}")
    print("| URL | median ms | fastest ms | status | bytes | queries |")
    print("|---|---|---|---|---|---|")
    for url in args.urls:
        times: list[float] = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                body = response.getvalue()  # streamed or not
                times.append((time.perf_counter() - start) * 1000)
        print(
            f"| `{url}` | {statistics.median(times):,.0f} | {min(times):,.0f} | {response.status_code} | "
            f"{len(body):,} | {len(queries)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
