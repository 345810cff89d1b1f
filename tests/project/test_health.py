"""Health checks: the database, Redis, the worker and beat, as JSON (/healthz, /healthz/all) and as a command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from config import heartbeat
from registry.version import code_version
from tests.conftest import program_environment

ROOT = Path(__file__).resolve().parents[2]
NOTHING_LISTENS = "redis://127.0.0.1:1/0"

pytestmark = [pytest.mark.requirement("OPS-01"), pytest.mark.django_db]


def test_healthz_reports_the_database_and_the_code_version(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["version"] == code_version()


def test_the_health_answers_are_never_cached(client):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_without_a_broker_redis_worker_and_beat_are_not_used_and_that_is_healthy(client, settings):
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", True
    response = client.get("/healthz/all")
    assert response.status_code == 200
    assert {name: check["status"] for name, check in response.json()["checks"].items()} == {
        "database": "ok",
        "redis": "not used",
        "worker": "not used",
        "beat": "not used",
    }


def test_healthz_answers_503_when_redis_cannot_be_reached(client, settings):
    settings.CELERY_BROKER_URL = NOTHING_LISTENS
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == {"status": "failing", "error": "ConnectionError"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_healthz_answers_503_not_500_when_the_database_cannot_be_reached(client):
    working = connection.settings_dict
    connection.close()
    connection.settings_dict = {**working, "PORT": 1}  # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict = working
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"status": "failing", "error": "OperationalError"}


@pytest.mark.redis
def test_healthz_all_is_healthy_with_a_fresh_worker_and_beat(client, queued_tasks):
    heartbeat.beat("worker", "celery@ward-1")
    heartbeat.beat("beat")
    response = client.get("/healthz/all")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["alive"] == 1


@pytest.mark.redis
def test_healthz_all_answers_503_when_no_worker_ever_wrote_a_heartbeat(client, queued_tasks):
    heartbeat.beat("beat")
    response = client.get("/healthz/all")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"status": "missing"}


@pytest.mark.redis
def test_healthz_all_answers_503_when_beat_stopped_writing_its_heartbeat(client, queued_tasks):
    heartbeat.beat("worker", "celery@ward-1")
    heartbeat.beat("beat", at=time.time() - django_settings.HEARTBEAT_MAX_AGE_SECONDS - 60)
    response = client.get("/healthz/all")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["status"] == "stale"


def health_command(component: str) -> subprocess.CompletedProcess[str]:
    """`python -m config.health COMPONENT` as a container's health check runs it."""
    return subprocess.run(
        [sys.executable, "-m", "config.health", component],
        cwd=ROOT,
        env=program_environment(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            REDIS_URL=django_settings.REDIS_URL,
            CELERY_BROKER_URL=django_settings.REDIS_URL,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.redis
def test_the_beat_container_check_fails_without_a_heartbeat_and_passes_with_one(queued_tasks):
    missing = health_command("beat")
    heartbeat.beat("beat")
    fresh = health_command("beat")
    assert (missing.returncode, json.loads(missing.stdout)["checks"]["beat"]["status"]) == (1, "missing")
    assert (fresh.returncode, json.loads(fresh.stdout)["checks"]["beat"]["status"]) == (0, "ok")


@pytest.mark.redis
def test_the_worker_container_check_looks_at_its_own_worker_only(queued_tasks):
    heartbeat.beat("worker", "celery@another-container")
    result = health_command("worker")
    assert result.returncode == 1
    assert json.loads(result.stdout)["checks"]["worker"] == {"status": "missing"}
