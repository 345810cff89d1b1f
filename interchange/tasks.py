"""Celery task for uploaded imports: it only calls the service (HackSoft style), by run id."""

from __future__ import annotations

from celery import shared_task

from interchange.services import import_run_execute


@shared_task(acks_late=False)
def import_run_execute_task(run_id: int) -> None:
    # Not acks_late: a long import redelivered after a visibility timeout would run twice.
    # The service refuses to start a run that is not pending, so a duplicate does nothing.
    import_run_execute(run_id=run_id)
