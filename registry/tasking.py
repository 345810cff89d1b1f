"""Enqueue background work by task name, after the transaction commits.

Tasks call services; services never import task modules (that would point the layers both
ways). A service names the task instead, and the task is looked up in Celery's registry when
the transaction commits, so a rolled-back write never starts work (Celery's own advice:
https://docs.celeryq.dev/en/stable/userguide/tasks.html#database-transactions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from celery import Celery
    from celery.app.task import Task


def tasks_app() -> Celery:
    """The project's Celery app (settings.TASKS_APP), imported on first use rather than at
    start-up (Celery is heavy: tests/project/test_startup.py); importing it makes it the
    current app, which @shared_task tasks bind to."""
    app: Celery = import_string(settings.TASKS_APP)
    return app


def task_named(name: str) -> Task:
    """The registered task; the first lookup in a process imports the Celery app and every
    app's tasks module, as a worker does when it starts."""
    app = tasks_app()
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def enqueue_on_commit(name: str, *args: Any, robust: bool = False) -> None:
    """Send `name(*args)` once the current transaction commits (at once outside one).

    `robust`: a broker that is down does not fail the request; the caller keeps its own record
    of work not yet sent (a queued run) and sends it again later.
    """

    # A function, not functools.partial: Django logs a robust callback's failure by the callback's
    # __qualname__, which a partial lacks (BaseDatabaseWrapper.on_commit), so a broker that is down
    # outside a transaction raised AttributeError instead of being logged.
    def send() -> None:
        _send(name, args)

    transaction.on_commit(send, robust=robust)


def enqueue(name: str, *args: Any) -> None:
    """Send `name(*args)` now (for recovery jobs that resend work outside a transaction)."""
    _send(name, args)


def _send(name: str, args: tuple[Any, ...]) -> None:
    task_named(name).delay(*args)
