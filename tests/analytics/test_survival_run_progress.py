"""A run starts in the background and the page shows its progress (steps done of total, time so
far) from a fragment that htmx, served from the registry itself, polls until the run is done."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics.survival import selectors
from analytics.survival.models import AnalysisRun, RunStatus
from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(client):
    login_with_second_factor(client, UserFactory(role=Role.ANALYST))
    return client


def _running(done: int, step: str, seconds_ago: int) -> AnalysisRun:
    now = timezone.now()
    return AnalysisRun.objects.create(
        status=RunStatus.RUNNING,
        started_at=now - dt.timedelta(seconds=seconds_ago),
        heartbeat_at=now,
        progress_done=done,
        progress_total=9,
        progress_step=step,
        attempts=1,
    )


def test_progress_gives_steps_done_of_total_the_step_in_words_and_the_time_so_far():
    run = _running(done=3, step="cox", seconds_ago=0)
    progress = selectors.run_progress(run, run.started_at + dt.timedelta(seconds=75))
    assert progress == {"done": 3, "total": 9, "step": "Cox models", "elapsed": "1 min 15 s"}


def test_a_queued_run_counts_its_time_from_the_request():
    run = AnalysisRun.objects.create(status=RunStatus.QUEUED)
    assert selectors.run_progress(run, run.created_at + dt.timedelta(seconds=4))["elapsed"] == "4 s"


def test_the_dashboard_shows_a_running_run_that_polls_for_its_progress(analyst_client):
    run = _running(done=4, step="one_sample", seconds_ago=30)
    page = analyst_client.get("/analytics/survival/").content.decode()
    assert "Step 4 of 9 done: now observed against expected deaths." in page
    assert f'hx-get="/analytics/survival/runs/{run.pk}/progress/" hx-trigger="every 2s"' in page


def test_the_progress_fragment_reloads_the_page_once_the_run_has_finished(analyst_client):
    run = AnalysisRun.objects.create(status=RunStatus.FAILED, error="ValueError: no patients")
    response = analyst_client.get(f"/analytics/survival/runs/{run.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    assert "Failed: ValueError: no patients" in response.content.decode()


def test_htmx_is_served_by_the_registry_not_a_cdn(analyst_client):
    page = analyst_client.get("/analytics/survival/").content.decode()
    assert '<script src="/static/vendor/htmx-2.0.11/htmx.min.js" defer></script>' in page
    assert "unpkg" not in page and "cdn" not in page.lower()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_eager_tasks_the_run_is_computed_before_the_page_returns(analyst_client, settings):
    """The demo has no broker: tasks run eagerly, in the request (CELERY_TASK_ALWAYS_EAGER), once
    the service's transaction commits (a real commit here, so the on-commit send happens)."""
    assert settings.CELERY_TASK_ALWAYS_EAGER
    seed_cohort(patients=30, seed=3, as_of=timezone.localdate())
    response = analyst_client.post("/analytics/survival/runs/start/", follow=True)
    run = AnalysisRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    assert f"Run {run.pk} finished: its results are shown below." in response.content.decode()
