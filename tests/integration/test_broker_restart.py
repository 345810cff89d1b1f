"""The survival analysis through a Redis restart: no run is lost, none is left stranded."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics.survival import services
from analytics.survival.models import AnalysisRun, RunStatus
from tests.integration.conftest import WORKER_ENV, wait_for

pytestmark = [
    pytest.mark.requirement("STA-06"),
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
STALE_AFTER = int(WORKER_ENV["SURVIVAL_RUN_STALE_AFTER_SECONDS"])


@pytest.fixture(autouse=True)
def _cohort(settings) -> None:
    settings.SURVIVAL_RUN_STALE_AFTER_SECONDS = STALE_AFTER
    seed_cohort(patients=60, seed=41, as_of=timezone.localdate())


def status_of(run_id: int) -> str:
    return AnalysisRun.objects.only("status").get(pk=run_id).status


def test_the_worker_reconnects_after_a_redis_restart_and_runs_the_next_request(restartable_broker):
    redis, _worker = restartable_broker
    redis.restart()
    run = services.survival_run_request(user=None, trigger="manual")
    assert wait_for(lambda: status_of(run.pk) == RunStatus.SUCCEEDED, timeout=180)


def test_a_run_whose_message_died_with_redis_is_sent_again_and_completed(restartable_broker):
    redis, worker = restartable_broker
    worker.stop()
    run = services.survival_run_request(user=None, trigger="manual")  # queued in Redis, no worker yet
    redis.restart()  # no persistence: the message is gone
    worker.start()
    time.sleep(STALE_AFTER + 1)
    assert status_of(run.pk) == RunStatus.QUEUED  # nobody will ever claim it on their own
    assert services.survival_runs_recover_stale() == [run.pk]
    assert wait_for(lambda: status_of(run.pk) == RunStatus.SUCCEEDED, timeout=180)


def test_a_run_requested_while_redis_is_down_is_recorded_and_runs_once_redis_is_back(restartable_broker):
    redis, _worker = restartable_broker
    redis.stop()
    run = services.survival_run_request(user=None, trigger="manual")  # does not raise to the analyst
    assert status_of(run.pk) == RunStatus.QUEUED
    redis.start()
    time.sleep(STALE_AFTER + 1)
    assert services.survival_runs_recover_stale() == [run.pk]
    assert wait_for(lambda: status_of(run.pk) == RunStatus.SUCCEEDED, timeout=180)
    assert AnalysisRun.objects.get(pk=run.pk).attempts == 1
