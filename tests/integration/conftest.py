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
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from kombu import pools

from config.celery import app
from tests.conftest import program_environment

ROOT = Path(__file__).resolve().parents[2]
WORKER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "SURVIVAL_RUN_STALE_AFTER_SECONDS": "3",
    "CELERY_VISIBILITY_TIMEOUT": "4",
}


def _database_url() -> str:
    """The test database, as the role the tests run as (the app role, not the owner)."""
    db = settings.DATABASES["default"]
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{quote(str(db['USER']), safe='')}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def worker_environment(broker_url: str) -> dict[str, str]:
    """The worker's whole environment, built from this process's settings, so what the outer
    environment holds (CELERY_BROKER_URL, DATABASE_ADMIN_URL, other keys…) cannot reach it."""
    return program_environment(
        **WORKER_ENV,
        DATABASE_URL=_database_url(),
        REDIS_URL=broker_url,
        CELERY_BROKER_URL=broker_url,
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        IDENTIFIER_HASH_KEY=settings.IDENTIFIER_HASH_KEY,
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),  # the test's own folder: files the worker writes are the test's
    )


class CeleryProcess:
    """A real `celery` process (worker or beat) in a process group of its own."""

    def __init__(self, arguments: list[str], broker_url: str) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.arguments = arguments
        self.broker_url = broker_url

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *self.arguments],
            cwd=ROOT,
            env=worker_environment(self.broker_url),
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


class Worker(CeleryProcess):
    def __init__(self, broker_url: str) -> None:
        self.node_name = f"test-{os.getpid()}@{socket.gethostname()}"
        super().__init__(
            [
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
                self.node_name,
            ],
            broker_url,
        )


class Beat(CeleryProcess):
    def __init__(self, broker_url: str) -> None:
        super().__init__(["beat", "--loglevel", "INFO"], broker_url)  # the database scheduler: no schedule file


@pytest.fixture
def celery_worker_process() -> Iterator[Worker]:
    """Tasks go through Redis to a separate worker process while the test runs."""
    previous = app.conf.task_always_eager, app.conf.broker_transport_options
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"visibility_timeout": int(WORKER_ENV["CELERY_VISIBILITY_TIMEOUT"])}
    drop_broker_pools()  # no connection pooled by an earlier test, to whatever broker it used
    app.control.purge()
    worker = Worker(broker_url=app.conf.broker_url)  # where this process publishes
    worker.start()
    yield worker
    worker.stop()
    drop_broker_pools()
    app.conf.task_always_eager, app.conf.broker_transport_options = previous


@pytest.fixture
def celery_beat_process() -> Iterator[Beat]:
    """A real beat on the test database, sending to the broker this process publishes to."""
    beat = Beat(broker_url=app.conf.broker_url)
    beat.start()
    yield beat
    beat.stop()
    drop_broker_pools()
    app.control.purge()  # nothing beat sent is left for a later test's worker


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


def drop_broker_pools() -> None:
    """Close every pooled broker connection and forget the pools. kombu keeps its pools in a
    process-wide registry keyed by connection URL: a pool closed but left there is handed out
    again for the same URL and raises "Acquire on closed pool"."""
    pools.reset()
    # Celery's private connection pools (what its after-fork hook resets); not in celery-types.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def publishing_to(url: str) -> Iterator[None]:
    """This process sends its tasks to `url` until the block ends, then to where it sent them
    before. Celery reads CELERY_BROKER_URL from the environment in preference to its own
    configuration (celery.app.utils.Settings.broker_url), so both are set and both restored."""
    saved_environ = os.environ.get("CELERY_BROKER_URL")
    saved_conf = app.conf.get("broker_url")
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url  # type: ignore[misc]  # a settable Settings property at run time
    drop_broker_pools()
    try:
        yield
    finally:
        if saved_environ is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_environ
        app.conf.broker_url = saved_conf  # type: ignore[misc]
        drop_broker_pools()


@pytest.fixture
def restartable_broker() -> Iterator[tuple[RedisServer, Worker]]:
    """A private Redis with a real worker on it; this process publishes there too."""
    redis = RedisServer()
    redis.start()
    previous = app.conf.task_always_eager, app.conf.broker_transport_options
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"visibility_timeout": int(WORKER_ENV["CELERY_VISIBILITY_TIMEOUT"])}
    with publishing_to(redis.url):
        worker = Worker(broker_url=redis.url)
        worker.start()
        yield redis, worker
        worker.stop()
        redis.stop()
    app.conf.task_always_eager, app.conf.broker_transport_options = previous


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
