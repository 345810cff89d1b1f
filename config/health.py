"""Health checks: the database, Redis, the Celery worker and beat, as JSON and as a command.

- `GET /healthz`: what the web process needs to serve (database, Redis). The web container's
  health check and a load balancer use it.
- `GET /healthz/all`: also the worker and beat, from the heartbeats they write to Redis
  (config.heartbeat). For monitoring: anything down makes it 503.
- `python -m config.health worker|beat|web|all`: the same checks for a container's own health
  check; `worker` looks at this host's worker only. Exit status 0 when healthy, 1 when not.

Each answer carries the code version. When tasks run in-process (the demo, without a broker)
worker and beat are "not used", which is healthy, and so is Redis without a broker. No check
reveals a host name or a password.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import heartbeat
from registry.version import code_version

OK, NOT_USED, FAILING, MISSING, STALE = "ok", "not used", "failing", "missing", "stale"
HEALTHY = {OK, NOT_USED}
Check = dict[str, object]


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return {"status": FAILING, "error": type(error).__name__}
    return {"status": OK}


def _broker_used() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def _tasks_queued() -> bool:
    """Tasks go to a broker for a worker (else they run in-process: no worker or beat needed)."""
    return _broker_used() and not settings.CELERY_TASK_ALWAYS_EAGER


def check_redis() -> Check:
    import redis  # imported when used (start-up: tests/project/test_startup.py)

    if not _broker_used():
        return {"status": NOT_USED}
    try:
        heartbeat.broker().ping()
    except redis.RedisError as error:
        return {"status": FAILING, "error": type(error).__name__}
    return {"status": OK}


def _heartbeat_check(component: str, instance: str | None = None) -> Check:
    import redis  # imported when used (start-up: tests/project/test_startup.py)

    if not _tasks_queued():
        return {"status": NOT_USED}
    try:
        ages = heartbeat.ages(component)
    except redis.RedisError as error:
        return {"status": FAILING, "error": type(error).__name__}
    if instance is not None:
        ages = {name: age for name, age in ages.items() if name == instance}
    if not ages:
        return {"status": MISSING}
    youngest = min(ages.values())
    fresh = sum(age <= settings.HEARTBEAT_MAX_AGE_SECONDS for age in ages.values())
    status = OK if fresh else STALE
    return {"status": status, "alive": fresh, "last_seen_seconds": round(youngest, 1)}


def check_worker(instance: str | None = None) -> Check:
    """Any worker alive, or only `instance` (a Celery node name such as celery@host)."""
    return _heartbeat_check("worker", instance)


def check_beat() -> Check:
    return _heartbeat_check("beat")


WEB: dict[str, Callable[[], Check]] = {"database": check_database, "redis": check_redis}
ALL: dict[str, Callable[[], Check]] = {**WEB, "worker": check_worker, "beat": check_beat}


def report(checks: dict[str, Callable[[], Check]]) -> tuple[bool, dict[str, object]]:
    results = {name: check() for name, check in checks.items()}
    healthy = all(result["status"] in HEALTHY for result in results.values())
    return healthy, {"status": OK if healthy else FAILING, "version": code_version(), "checks": results}


def _response(checks: dict[str, Callable[[], Check]]) -> JsonResponse:
    healthy, body = report(checks)
    return JsonResponse(body, status=200 if healthy else 503)


# Outside ATOMIC_REQUESTS: with the database down, the view must still answer (503, not 500).
@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """What the web process needs: the database and Redis."""
    return _response(WEB)


@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz_all(request: HttpRequest) -> JsonResponse:
    """Everything: also a live worker and beat."""
    return _response(ALL)


def main(argv: list[str]) -> int:
    """`python -m config.health COMPONENT`: print the report, exit 0 when healthy."""
    component = argv[0] if argv else "all"
    choices: dict[str, dict[str, Callable[[], Check]]] = {
        "web": WEB,
        "all": ALL,
        # This container's worker: the node name Celery gives by default, celery@<host name>.
        "worker": {"worker": lambda: check_worker(f"celery@{socket.gethostname()}")},
        "beat": {"beat": check_beat},
    }
    if component not in choices:
        print(f"usage: python -m config.health {{{','.join(choices)}}}", file=sys.stderr)
        return 2
    healthy, body = report(choices[component])
    print(json.dumps(body))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
