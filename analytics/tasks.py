"""Celery tasks of the dataset exports: thin wrappers passed ids only (analytics.export_jobs)."""

from __future__ import annotations

from celery import shared_task

from analytics import export_jobs


@shared_task(acks_late=True, reject_on_worker_lost=True)
def export_job_run_task(job_id: int) -> str | None:
    """Build one statistics-package export. acks_late + reject_on_worker_lost: a worker that dies
    mid-export leaves the message unacknowledged, so another worker builds it again."""
    job = export_jobs.export_job_execute(job_id)
    return job.status if job else None


@shared_task
def export_files_purge_task() -> list[int]:
    """Scheduled by beat: delete export files past their retention period."""
    return export_jobs.export_files_purge()
