"""Project configuration.

The Celery app (config.celery) is not imported here, so that start-up does not load Celery:
the worker and beat find it with `celery -A config`, and `registry.tasking` imports it
(settings.TASKS_APP) before the first task is sent, so @shared_task binds to it.
`config.celery_app` still gives it, imported on first use.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        from config.celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
