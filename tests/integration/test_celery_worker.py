"""The survival analysis on a real worker: it completes, and a worker killed mid-run loses nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics.survival import services
from analytics.survival.models import AnalysisRun, RunStatus
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.requirement("STA-06"),
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def status_of(run_id: int) -> str:
    return AnalysisRun.objects.only("status").get(pk=run_id).status


def test_a_requested_run_is_computed_by_a_worker(celery_worker_process):
    seed_cohort(patients=60, seed=31, as_of=timezone.localdate())
    run = services.survival_run_request(user=None, trigger="manual")
    assert wait_for(lambda: status_of(run.pk) == RunStatus.SUCCEEDED, timeout=180)
    run.refresh_from_db()
    assert run.results["cohort"]["n"] == 60
    assert run.attempts == 1


def test_a_worker_killed_mid_run_leaves_no_half_written_run_and_the_run_is_completed(celery_worker_process):
    seed_cohort(patients=400, seed=32, as_of=timezone.localdate())
    run = services.survival_run_request(user=None, trigger="manual")
    assert wait_for(lambda: status_of(run.pk) == RunStatus.RUNNING, timeout=120)
    celery_worker_process.kill()
    killed = AnalysisRun.objects.get(pk=run.pk)
    assert killed.status == RunStatus.RUNNING
    assert killed.results is None
    assert killed.figures is None

    celery_worker_process.start()  # the message was never acknowledged: Redis redelivers it
    assert wait_for(lambda: status_of(run.pk) == RunStatus.SUCCEEDED, timeout=240)
    finished = AnalysisRun.objects.get(pk=run.pk)
    assert finished.attempts == 2
    assert finished.results["cohort"]["n"] == 400
    assert set(finished.figures) == {"km_primary", "forest_subgroups", "km_by_route", "km_by_pnfh_stratum"}
