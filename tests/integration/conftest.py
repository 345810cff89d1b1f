"""A real Celery worker process on Redis, pointed at the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
WORKER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "SURVIVAL_RUN_STALE_AFTER_SECONDS": "3",
    "CELERY_VISIBILITY_TIMEOUT": "4",
}


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Worker:
    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **WORKER_ENV, "DATABASE_URL": _database_url(), "CI": ""}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-c", "1", "--loglevel", "INFO",
             "--without-mingle", "--without-gossip", "-n", f"test-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory kill or a crashed host would: no chance to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker_process() -> Iterator[Worker]:
    """Tasks go through Redis to a separate worker process while the test runs."""
    previous = app.conf.task_always_eager, app.conf.broker_transport_options
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"visibility_timeout": int(WORKER_ENV["CELERY_VISIBILITY_TIMEOUT"])}
    app.control.purge()
    worker = Worker()
    worker.start()
    yield worker
    worker.stop()
    app.conf.task_always_eager, app.conf.broker_transport_options = previous


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
