"""Beat's scheduler: django-celery-beat's, writing beat's heartbeat (config.heartbeat) as it ticks.

A module of its own because django-celery-beat's scheduler imports its models, which beat
loads only after Django is set up (CELERY_BEAT_SCHEDULER names it by path).
"""

from __future__ import annotations

import time
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from config.heartbeat import HEARTBEAT_SECONDS, beat


class HeartbeatScheduler(DatabaseScheduler):
    """Writes beat's heartbeat at most every HEARTBEAT_SECONDS; ticks run at least every 5 s."""

    _last_heartbeat = float("-inf")

    def tick(self, *args: Any, **kwargs: Any) -> float:
        now = time.monotonic()
        if now - self._last_heartbeat >= HEARTBEAT_SECONDS:
            beat("beat")
            self._last_heartbeat = now
        return super().tick(*args, **kwargs)
