"""Reading PostgreSQL's plan of a query with some of the planner's ways to the rows switched off,
so that a test can tell whether an index answers the query as written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def planner_paths_off(*paths: str) -> Iterator[None]:
    """The planner settings named (`enable_seqscan`, …) off for this transaction only."""
    with transaction.atomic(), connection.cursor() as cursor:
        for path in paths:
            cursor.execute(f"SET LOCAL {path} = off")
        yield
