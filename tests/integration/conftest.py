"""A real Celery worker process on Redis, pointed at the test database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
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
    def __init__(self, broker_url: str | None = None) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.broker_url = broker_url

    def start(self) -> None:
        env = {**os.environ, **WORKER_ENV, "DATABASE_URL": _database_url(), "CI": ""}
        if self.broker_url:
            env["CELERY_BROKER_URL"] = self.broker_url
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "-c",
                "1",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
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


class RedisServer:
    """A Redis of the test's own on a free port, so it can be stopped and restarted (losing
    every queued message, as the production Redis configured without persistence would)."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert wait_for(self.is_up, timeout=15), "private redis-server did not start"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _publish_to(url: str) -> None:
    """Point this process's task publishing at `url`, dropping pooled broker connections
    (Celery caches them on the app; its own after-fork hook resets the same two pools)."""
    # Celery's private connection pools (what its after-fork hook resets); not in celery-types.
    app.conf.broker_url = url  # type: ignore[misc]  # a settable Settings property at run time
    if app._pool is not None:  # type: ignore[attr-defined]
        app._pool.force_close_all()  # type: ignore[attr-defined]
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def restartable_broker() -> Iterator[tuple[RedisServer, Worker]]:
    """A private Redis with a real worker on it; this process publishes there too."""
    redis = RedisServer()
    redis.start()
    previous = app.conf.task_always_eager, app.conf.broker_transport_options, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"visibility_timeout": int(WORKER_ENV["CELERY_VISIBILITY_TIMEOUT"])}
    _publish_to(redis.url)
    worker = Worker(broker_url=redis.url)
    worker.start()
    yield redis, worker
    worker.stop()
    redis.stop()
    app.conf.task_always_eager, app.conf.broker_transport_options = previous[:2]
    _publish_to(previous[2])


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
