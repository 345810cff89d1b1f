"""A real worker and a real beat write the heartbeats the health checks read."""

from __future__ import annotations

import pytest

from config.health import check_beat, check_worker
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.requirement("OPS-01"),
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_running_worker_is_reported_alive(queued_tasks, celery_worker_process):
    assert wait_for(lambda: check_worker(celery_worker_process.node_name)["status"] == "ok", timeout=120)


def test_a_running_beat_is_reported_alive(queued_tasks, celery_beat_process):
    assert wait_for(lambda: check_beat()["status"] == "ok", timeout=120)
