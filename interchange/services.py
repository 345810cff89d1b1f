"""Cohort import and export as services: the command, the upload page and the task call these.

`cohort_import` runs an import and records it as an ImportRun (progress, counts, report).
The upload page only stores the file and queues `import_run_execute` after the request's
transaction commits (`delay_on_commit`), so the worker never looks for a run that is not
there yet; in the demo Celery runs eagerly and the import happens at commit.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from interchange.cohort import import_cohort
from interchange.exporter import ExportOutcome, export_cohort
from interchange.importer import DEFAULT_CHUNK_SIZE, ImportOutcome, Progress
from interchange.models import ImportRun, ImportStatus
from interchange.reader import SourceError
from registry.models import User
from registry.roles import Area, may_write
from registry.tasking import enqueue_on_commit

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


def check_may_import(user: User) -> None:
    if not may_write(user, Area.IMPORT):
        raise PermissionDenied("Only data managers import cohorts.")


def cohort_import(
    path: str | Path,
    *,
    user: User | None = None,
    run: ImportRun | None = None,
    progress: Progress | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = 1,
) -> tuple[ImportRun, ImportOutcome | None]:
    """Import the cohort at `path`, recording the run; problems in the files go to its report.

    Returns the finished run and the outcome (None if the cohort could not be opened at all,
    in which case the run is marked failed with the reason).
    """
    if run is None:
        run = ImportRun.objects.create(created_by=user, source_name=Path(path).name)
    run.status, run.started_at = ImportStatus.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    last_saved = 0.0

    def on_progress(done: int, total: int, file: str) -> None:
        nonlocal last_saved
        now = time.monotonic()
        if now - last_saved >= PROGRESS_EVERY_SECONDS or done >= total:
            ImportRun.objects.filter(pk=run.pk).update(rows_done=done, rows_total=total, current_file=file)
            last_saved = now
        if progress is not None:
            progress(done, total, file)

    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as stream:
        try:
            outcome = import_cohort(
                path, user=user, report_stream=stream, progress=on_progress, chunk_size=chunk_size, workers=workers
            )
        except SourceError as error:
            _finish(run, status=ImportStatus.FAILED, error=str(error))
            return run, None
        except Exception as error:
            logger.exception("Import run %s failed", run.pk)
            _finish(run, status=ImportStatus.FAILED, error=f"The import stopped on an unexpected error ({error}).")
            raise
        stream.seek(0)
        run.report.save(f"import-report-{run.pk}.csv", File(stream), save=False)
    report = outcome.report
    totals = report.totals
    run.rows_total = run.rows_done = totals.read
    run.rows_created, run.rows_updated = totals.created, totals.updated
    run.rows_unchanged, run.rows_rejected = totals.unchanged, totals.rejected
    run.warnings = report.warnings
    run.file_counts = {name: counts.as_dict() for name, counts in report.files.items()}
    _finish(run, status=ImportStatus.SUCCEEDED)
    logger.info("Import run %s of %s: %s", run.pk, run.source_name, " | ".join(report.summary_lines()[1:]))
    return run, outcome


def _finish(run: ImportRun, *, status: str, error: str = "") -> None:
    run.status, run.error, run.finished_at, run.current_file = status, error, timezone.now(), ""
    run.save()


def upload_name(upload: UploadedFile) -> str:
    """An uploaded file's base name (Django keeps only the base name; the stubs allow None)."""
    return Path(upload.name or "").name


def import_run_start(*, user: User, files: Sequence[UploadedFile]) -> ImportRun:
    """Store an upload (a .zip, or the cohort's CSV files) and queue its import."""
    check_may_import(user)
    if len(files) == 1 and upload_name(files[0]).lower().endswith(".zip"):
        upload = files[0]
        run = ImportRun(created_by=user, source_name=upload_name(upload))
        run.source_file.save(upload_name(upload), upload, save=False)
    else:
        names = ", ".join(sorted(upload_name(f) for f in files))
        run = ImportRun(created_by=user, source_name=names if len(names) <= 255 else names[:254] + "…")
        run.source_file.save("cohort.zip", ContentFile(_zip_of(files)), save=False)
    run.save()
    enqueue_on_commit("interchange.tasks.import_run_execute_task", run.pk)
    return run


def _zip_of(files: Sequence[UploadedFile]) -> bytes:
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for upload in files:
                with archive.open(upload_name(upload), "w") as member:
                    for chunk in upload.chunks():
                        member.write(chunk)
        buffer.seek(0)
        return buffer.read()


def import_run_execute(*, run_id: int) -> None:
    """Run a queued upload. A redelivered task finds the run already taken and does nothing."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=run_id)
        if run.status != ImportStatus.PENDING:
            logger.warning("Import run %s is %s: not started again", run.pk, run.status)
            return
        run.status = ImportStatus.RUNNING
        run.save(update_fields=["status"])
    cohort_import(run.source_file.path, user=run.created_by, run=run)


def import_run_issues(run: ImportRun, limit: int = 100) -> list[dict[str, str]]:
    """The first issues of a finished run's report, for the summary on screen."""
    if not run.is_finished or not run.report:
        return []
    with run.report.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        return list(itertools.islice(csv.DictReader(text), limit))


def import_runs_visible_to(user: User) -> list[ImportRun]:
    """Recent runs for the upload page (data managers see every run)."""
    check_may_import(user)
    return list(ImportRun.objects.select_related("created_by")[:20])


def cohort_export(path: str | Path, *, progress: Callable[[str, int], None] | None = None) -> ExportOutcome:
    """Export the registry in the interchange format, logging what left the registry."""
    outcome = export_cohort(path, progress=progress)
    logger.info(
        "Cohort exported to %s: %s rows (%s); %s patient(s) left out (not enrolled)",
        path,
        outcome.total_rows,
        ", ".join(f"{name} {count}" for name, count in outcome.rows.items()),
        len(outcome.patients_left_out),
    )
    return outcome
