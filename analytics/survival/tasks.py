"""Celery tasks: thin wrappers over the services, passed ids only."""

from __future__ import annotations

from celery import Task, shared_task

from analytics.survival import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=20)
def survival_analysis_run_task(self: Task, run_id: int) -> str | None:
    """Run the suite. acks_late + reject_on_worker_lost redeliver the message if the worker dies."""
    try:
        run = services.survival_run_execute(run_id)
    except services.RunBusy as busy:
        raise self.retry(countdown=services.stale_after().total_seconds(), exc=busy) from busy
    return run.status if run else None


@shared_task
def survival_analyses_rerun_nightly() -> int:
    """Scheduled by beat: rerun the suite on the current data (reused if nothing changed)."""
    services.survival_runs_recover_stale()
    return services.survival_run_request(user=None, trigger="schedule").pk


@shared_task
def survival_runs_recover_stale() -> list[int]:
    return services.survival_runs_recover_stale()
