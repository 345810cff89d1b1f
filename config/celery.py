"""Celery application, configured from Django settings (CELERY_* names).

Imported by the worker and beat (`celery -A config`, which finds `config.celery.app`) and by
`registry.tasking` when a process first sends a task, not at start-up: configuring the app,
discovering the tasks and the Redis client cost start-up time and memory that `manage.py`
commands and web workers that send no task need not pay (tests/project/test_startup.py).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, bootsteps

from config.heartbeat import HEARTBEAT_SECONDS, beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


class HeartbeatStep(bootsteps.StartStopStep):
    """The worker's heartbeat, on the worker's own timer (Celery's documented liveness pattern)."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: Any = None

    def start(self, parent: Any) -> None:
        beat("worker", parent.hostname)
        self.timer_entry = parent.timer.call_repeatedly(
            HEARTBEAT_SECONDS, beat, ("worker", parent.hostname), priority=10
        )

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None


app = Celery("il2ld_registry")
app.set_default()  # also the app of threads other than the one that imported this module
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker writes a heartbeat the health checks read (config.heartbeat, config.health).
app.steps["worker"].add(HeartbeatStep)
