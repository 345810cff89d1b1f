"""The suite passes whatever supported setting the environment holds: the fixtures own what they change.

Reproduced before the fix: with CELERY_BROKER_URL exported, the worker and broker-restart tests
published to that broker while their worker listened on another (Celery prefers the variable to
its configuration), and the next test's purge failed with "Acquire on closed pool".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.celery import app
from config.settings.test import SERVICES
from tests.conftest import run_python
from tests.integration.conftest import drop_broker_pools, publishing_to

pytestmark = pytest.mark.requirement("OPS-05")

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = "redis://127.0.0.1:1/9"  # nothing listens there: the tests must not depend on it
PRIVATE = "redis://127.0.0.1:2/0"

# Every `env("NAME")`, `env.int("NAME")` … in the settings modules: the supported settings.
ENV_READ = re.compile(r'env(?:\.(\w+))?\(\s*"([A-Z][A-Z0-9_]*)"')
UNUSUAL = {"bool": "false", "int": "7", "list": "unusual.example.org", "db": "", "": "unusual-value"}
UNUSUAL_BY_NAME = {"FIELD_ENCRYPTION_KEYS": "4-f-37SZUpIt8FrfTrYiClVRWLEUA7lvo26oCNGcsBk="}
DUMP_SETTINGS = (
    "import json; from django.conf import settings; "
    "print(json.dumps({name: repr(getattr(settings, name)) for name in dir(settings) if name.isupper()}))"
)


def supported_settings() -> dict[str, str]:
    """Each environment variable the settings read, with an unusual but valid value for it."""
    found: dict[str, str] = {}
    for source in sorted((ROOT / "config" / "settings").glob("*.py")):
        for kind, name in ENV_READ.findall(source.read_text()):
            found[name] = UNUSUAL_BY_NAME.get(name, UNUSUAL[kind])
    return {name: value for name, value in found.items() if name not in SERVICES}


def test_settings(**environment: str) -> dict[str, str]:
    environment = {"DJANGO_SETTINGS_MODULE": "config.settings.test", **environment}
    return json.loads(run_python("-c", DUMP_SETTINGS, env=environment).stdout)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def test_the_settings_read_many_variables_so_the_next_test_means_something():
    assert {"SESSION_COOKIE_AGE", "IMPORT_UPLOAD_MAX_BYTES", "SAE_ALERT_EMAILS", "DJANGO_ALLOWED_HOSTS"} <= set(
        supported_settings()
    )


def test_the_test_settings_are_the_same_whatever_else_the_environment_sets():
    plain = test_settings()
    unusual = test_settings(**supported_settings())
    differing = sorted(name for name in plain if plain[name] != unusual.get(name))
    assert differing == []


@pytest.fixture
def outside_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """CELERY_BROKER_URL exported by the shell, as on a deployment host; no pool outlives the test."""
    monkeypatch.setenv("CELERY_BROKER_URL", OUTSIDE)
    drop_broker_pools()
    yield OUTSIDE
    drop_broker_pools()


def address(connection: Any) -> str:
    return connection.as_uri(include_password=True)


def test_tasks_go_to_the_fixtures_broker_even_when_CELERY_BROKER_URL_is_set(outside_broker):
    with publishing_to(PRIVATE):
        assert address(app.connection_for_write()) == PRIVATE
    assert address(app.connection_for_write()) == outside_broker


def test_a_broker_switched_away_and_back_still_hands_out_connections(outside_broker):
    app.pool.acquire().release()  # a pool for OUTSIDE exists before the switch, as after a test that published
    with publishing_to(PRIVATE):
        app.pool.acquire().release()
    connection = app.pool.acquire()  # before the fix: RuntimeError("Acquire on closed pool")
    connection.release()
    assert address(connection) == outside_broker
