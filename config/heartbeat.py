"""Heartbeats of the Celery worker and beat, kept in Redis for the health checks (config.health).

A worker writes `heartbeat:worker:<node name>` every HEARTBEAT_SECONDS from its own timer (a
bootstep, added in config.celery), and beat writes `heartbeat:beat` from its scheduler's tick
(config.beat), which runs at least every 5 seconds. Each value is the Unix time it was written; keys expire
after a day so a worker that is gone for good stops being listed. A heartbeat that cannot be
written (Redis down) is logged, never raised: Redis being down is the health check's to report.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import redis

HEARTBEAT_SECONDS = 10
PREFIX = "heartbeat:"
KEEP_SECONDS = 24 * 60 * 60
log = logging.getLogger(__name__)


def broker() -> redis.Redis:
    import redis  # imported when used: every process imports this module (health checks), few write

    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)


def beat(component: str, name: str = "", *, at: float | None = None) -> None:
    """Record that `component` (worker, beat) is alive now (or `at`, a Unix time)."""
    import redis  # imported when used (see broker)

    key = f"{PREFIX}{component}:{name}" if name else f"{PREFIX}{component}"
    try:
        broker().set(key, at if at is not None else time.time(), ex=KEEP_SECONDS)
    except redis.RedisError as error:
        log.warning("Could not write the %s heartbeat: %s", component, error)


def ages(component: str) -> dict[str, float]:
    """Seconds since each instance of `component` last wrote its heartbeat, by instance name."""
    client = broker()
    keys = sorted(client.scan_iter(f"{PREFIX}{component}*"))
    now = time.time()
    found = {}
    for key, value in zip(keys, client.mget(keys) if keys else [], strict=True):
        if value is not None:
            name = key.decode().removeprefix(f"{PREFIX}{component}").removeprefix(":")
            found[name] = max(0.0, now - float(value))
    return found
