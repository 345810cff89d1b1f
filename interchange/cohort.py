"""Importing a whole cohort: in this process, or shared out between worker processes.

The one entry point of an import (the command, the upload task and the tests call it); the
importer reads and loads the files, `parallel` runs the importer in several processes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO

from django.utils import timezone

from interchange import parallel, rif
from interchange.importer import (
    DEFAULT_CHUNK_SIZE,
    ImportContext,
    ImportOutcome,
    Progress,
    Tracker,
    import_files,
    note_dispensing,
)
from interchange.manifest import Manifest, read_manifest
from interchange.reader import CohortSource
from interchange.report import ImportReport
from registry.models import User


def import_cohort(
    path: str | Path,
    *,
    user: User | None = None,
    report_stream: IO[str] | None = None,
    progress: Progress | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = 1,
) -> ImportOutcome:
    """Import every file of the cohort at `path`; returns the report with counts per file.

    With `workers` > 1 (PostgreSQL, outside any transaction) the patients are shared out
    between that many processes, each with its own connection (see `parallel`); the outcome
    is the same as with one.

    Raises `reader.SourceError` if `path` is not a cohort at all, or its manifest names a
    version the registry does not read (`manifest.ManifestError`); every problem inside the
    files is reported, never raised.
    """
    started = time.perf_counter()
    report = ImportReport(report_stream)
    with CohortSource(path) as source:
        manifest = read_manifest(source, today=timezone.localdate())
        for name in source.ignored:
            report.warn(name, f"not a file of the interchange format ({manifest.label}): ignored.")
        scans = {name: source.scan(name) for name in source.names}
        total = sum(max(scan.lines - 1, 0) for scan in scans.values())
        tracker = Tracker(total, progress)
        if workers > 1 and parallel.possible():
            source.close()  # each worker opens its own (a shared zip file offset would be a race)
            parallel.run(
                path,
                scans,
                user=user,
                report=report,
                tracker=tracker,
                chunk_size=chunk_size,
                workers=workers,
                data_cutoff=manifest.data_cutoff,
            )
        else:
            import_files(source, scans, ImportContext.load(report, user, manifest.data_cutoff), tracker, chunk_size)
    note_dispensing(report)
    _note_manifest(report, manifest)
    report.finish()
    elapsed = time.perf_counter() - started
    return ImportOutcome(report=report, seconds=elapsed, rows=report.totals.read)


def _note_manifest(report: ImportReport, manifest: Manifest) -> None:
    if manifest.data_cutoff is None:
        report.note(
            rif.MANIFEST_NAME,
            f"no {rif.MANIFEST_NAME}: read as {manifest.label}, the format before it was versioned. The rules that "
            "depend on today (a date in the future, doses missed) were judged on the day of this import; a "
            f"{rif.version_label()} cohort gives its data cut-off in {rif.MANIFEST_NAME} (see docs/interchange.md).",
        )
    else:
        report.note(
            rif.MANIFEST_NAME,
            f"{manifest.label}, data cut-off {manifest.data_cutoff.isoformat()}: the rules that depend on today "
            "(a date in the future, doses missed) were judged on that day.",
        )
