"""Writes of the analytics app: requesting a statistics-package export (built by a worker)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from analytics import dataset_columns
from analytics.bundles import BUNDLE_FORMATS
from analytics.models import ExportJob
from registry.models import User
from registry.tasking import enqueue_on_commit

#: The Celery task that builds a job (analytics.tasks), named so that services import no task module.
EXPORT_TASK = "analytics.tasks.export_job_run_task"
#: Exports one user may have queued or running at once.
MAX_ACTIVE_JOBS_PER_USER = 3


def export_job_request(*, actor: User, table: str, file_format: str, channel: str) -> ExportJob:
    """Queue a bundle of `table` in `file_format` for `actor`; a worker builds it after commit."""
    if not (actor.is_authenticated and actor.is_active):
        raise PermissionDenied("Sign in to export data.")
    errors = {}
    if table not in dataset_columns.TABLES:
        errors["table"] = f"No dataset table {table!r}; choose one of {', '.join(dataset_columns.TABLES)}."
    if file_format not in BUNDLE_FORMATS:
        errors["file_format"] = f"No export format {file_format!r}; choose one of {', '.join(BUNDLE_FORMATS)}."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # The user's row is the lock: two requests at once cannot both pass the limit.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        active = ExportJob.objects.filter(user=actor, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING])
        if active.count() >= MAX_ACTIVE_JOBS_PER_USER:
            raise ValidationError(
                f"You already have {MAX_ACTIVE_JOBS_PER_USER} exports in progress; wait for one to finish."
            )
        job = ExportJob.objects.create(user=actor, table=table, file_format=file_format, channel=channel)
    # robust: with the broker down the request still succeeds and the job stays queued.
    enqueue_on_commit(EXPORT_TASK, job.pk, robust=True)
    return job
