"""Running statistics-package exports in a worker, and deleting their files when they expire.

`export_job_execute` is called by the Celery task (analytics.tasks) with a job id; it writes the
bundle (analytics.bundles) to a temporary file, reporting rows read as progress, then stores the
zip in MEDIA_ROOT/exports/ and marks the job ready with its expiry time. A failure is recorded on
the job (and the export log row stays incomplete). `export_files_purge` runs periodically (beat)
and deletes the files of jobs past their expiry; the job and export log rows stay as records.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from analytics import bundles
from analytics.models import ExportJob

log = logging.getLogger(__name__)
Status = ExportJob.Status


def retention() -> dt.timedelta:
    return dt.timedelta(hours=settings.DATASET_EXPORT_RETENTION_HOURS)


def _claim(job_id: int) -> ExportJob | None:
    """Mark the job running; None when it is finished (or gone). A job left running by a worker
    that died is claimed again when its message is redelivered."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("user").filter(pk=job_id).first()
        if job is None or not job.is_active:
            return None
        job.status = Status.RUNNING
        job.started_at = timezone.now()
        job.progress_done = 0
        job.progress_step = "Starting"
        job.save(update_fields=["status", "started_at", "progress_done", "progress_step"])
        return job


def _report_progress(job_id: int, done: int, total: int, step: str) -> None:
    ExportJob.objects.filter(pk=job_id, status=Status.RUNNING).update(
        progress_done=done, progress_total=total, progress_step=step[:80]
    )


def _fail(job_id: int, message: str) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        job.status = Status.FAILED
        job.error = message
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
    return job


def export_job_execute(job_id: int) -> ExportJob | None:
    """Build the job's bundle; failures are recorded on the job, not raised."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.stat_files import ExportError

    job = _claim(job_id)
    if job is None:
        return ExportJob.objects.filter(pk=job_id).first()
    handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115 - closed below
    handle.close()
    path = Path(handle.name)
    try:
        result = bundles.write_bundle(
            table=job.table,
            file_format=job.file_format,
            user=job.user,
            target=path,
            channel=job.channel,
            progress=lambda done, total, step: _report_progress(job_id, done, total, step),
        )
        with transaction.atomic():
            locked = ExportJob.objects.select_for_update().get(pk=job_id)
            with path.open("rb") as data:
                locked.file.save(bundles.bundle_name(job.table, job.file_format), File(data), save=False)
            now = timezone.now()
            locked.status = Status.SUCCEEDED
            locked.finished_at = now
            locked.expires_at = now + retention()
            locked.size_bytes = path.stat().st_size
            locked.sha256 = result.sha256
            locked.row_count = result.rows
            locked.progress_done = locked.progress_total = result.rows
            locked.progress_step = "Ready"
            locked.log = result.log
            locked.save()
        return locked
    except ExportError as refused:
        return _fail(job_id, str(refused))
    except Exception as error:
        log.exception("Export job %s failed", job_id)
        return _fail(job_id, f"The export stopped on an unexpected error ({type(error).__name__}: {error}).")
    finally:
        path.unlink(missing_ok=True)


def export_files_purge(*, now: dt.datetime | None = None) -> list[int]:
    """Delete the files of ready jobs past their expiry; returns the ids of the jobs expired."""
    now = now or timezone.now()
    expired = []
    for job in ExportJob.objects.filter(status=Status.SUCCEEDED, expires_at__lte=now).order_by("pk"):
        if job.file:
            job.file.delete(save=False)
        job.status = Status.EXPIRED
        job.save(update_fields=["file", "status"])
        expired.append(job.pk)
    return expired
