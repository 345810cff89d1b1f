"""Shared fixtures and the skip policy.

Outside CI, tests needing PostgreSQL, Redis or Chromium are skipped (with the reason shown)
when those are absent. In CI (CI=true) every test must run: a skip fails the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from config import heartbeat
from registry.db_roles import as_owner, roles_separated
from tests.validation_pack import pytest_addoption, pytest_configure  # noqa: F401  (the validation pack's hooks)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parents[1]

# What a program started by a test (a worker, manage.py) takes from this process's environment:
# only what any program needs to run, never a project setting; the test gives those explicitly.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


def program_environment(**variables: str) -> dict[str, str]:
    """An environment for a program a test starts: the basics of this one, then `variables`."""
    return {**{name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}, **variables}


def run_python(*argv: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """`python *argv` from the repository root in `program_environment(**env)`: a deployment's
    environment, what the test gives and not what this shell exports."""
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=program_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


@pytest.fixture(autouse=True, scope="session")
def _celery_reads_the_test_settings() -> Iterator[None]:
    """Celery lets CELERY_RESULT_BACKEND in the environment override its configuration
    (celery.app.utils.Settings.result_backend); during the tests, the test settings decide."""
    saved = os.environ.pop("CELERY_RESULT_BACKEND", None)
    yield
    if saved is not None:
        os.environ["CELERY_RESULT_BACKEND"] = saved


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _missing(marker: str) -> str | None:
    if marker == "postgres" and not _on_postgres():
        return "needs PostgreSQL: set DATABASE_URL=postgres://…"
    if marker == "db_roles" and not roles_separated():
        return "needs PostgreSQL with an owner and an app role: set DATABASE_ADMIN_URL (docs/deployment.md)"
    if marker == "redis" and not (os.environ.get("REDIS_URL") and _on_postgres()):
        return "needs Redis and PostgreSQL: set REDIS_URL and DATABASE_URL"
    if marker == "browser" and not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
        return "needs Chromium: apt-get install chromium"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("postgres", "db_roles", "redis", "browser"):
            if item.get_closest_marker(marker) and (reason := _missing(marker)):
                item.add_marker(pytest.mark.skip(reason=reason))


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped:
        print(f"\nCI forbids skipped tests; {len(_skipped)} skipped:\n  " + "\n  ".join(_skipped))
        session.exitstatus = 1


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> Iterator[ExitStack]:
    """From here the connection is the owner's (DATABASE_ADMIN_URL, when set): pytest-django's
    django_db_setup, which asks for this fixture, creates and migrates the test database as
    the owner, so the migrations grant the app role its privileges there as in production."""
    owner = ExitStack()
    owner.enter_context(as_owner())
    yield owner
    owner.close()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_modify_db_settings: ExitStack) -> Iterator[None]:
    """The tests themselves run as the app role (DATABASE_URL); the owner drops the database after.
    (Transactional tests empty the tables through `flush`, which connects as the owner.)"""
    django_db_modify_db_settings.close()
    yield
    django_db_modify_db_settings.enter_context(as_owner())


@pytest.fixture
def queued_tasks(settings: Any) -> Iterator[None]:
    """Tasks go to Redis for a worker, as in production, and no heartbeat (config.heartbeat) is
    left from another test or process before or after."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    _forget_heartbeats()
    yield
    _forget_heartbeats()


def _forget_heartbeats() -> None:
    client = heartbeat.broker()
    for key in client.scan_iter(f"{heartbeat.PREFIX}*"):
        client.delete(key)


@pytest.fixture(autouse=True)
def _media_root(tmp_path: object, settings: object) -> None:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]


def login_with_second_factor(client, user) -> None:
    """Log in as after a successful TOTP check (no session works without one, accounts.two_factor)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="authenticator", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests run after others have flushed the database: re-apply the data
    migrations (routes, products, MIROCALS benchmarks) when they are missing."""
    marker = request.node.get_closest_marker("django_db")
    if not marker or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    from access_programme.models import Route
    from analytics.survival.models import Benchmark

    if not Route.objects.exists():
        importlib.import_module("access_programme.migrations.0003_reference_routes_products").forwards(apps, None)
    from registry.models import DataQualityRule

    if not DataQualityRule.objects.exists():
        importlib.import_module("registry.migrations.0007_data_quality_rules").seed_rules(apps, None)
    if not Benchmark.objects.exists():
        importlib.import_module("analytics.survival.migrations.0002_mirocals_benchmarks").forwards(apps, None)
