"""Importing with several worker processes, the patients shared out between them.

Every rule of the format is a rule about one patient's records (natural keys, one death,
nothing after death, the cycle schedule, a rejected patient's or cycle's rows), so each
worker imports every file, in the usual order, for the patients whose id hashes to it
(`importer.Part`). Each worker is a forked process with its own database connection and its
own transaction per chunk, exactly as the single-process import; the parent only shares out
the work, shows progress and merges the reports.

What workers share, and how it stays correct:

* **Primary keys** come from the tables' sequences (`nextval`), which never hand out a value
  twice whatever the concurrency.
* **Sites' next patient number** is raised under a row lock (`FOR NO KEY UPDATE`, which does
  not conflict with the key-share locks other workers' inserts take on the site).
* **Batches and their stock** are shared by every patient's dispensings: a dispensing chunk
  takes a transaction-level advisory lock (`DispensingLoader.exclusive`) before it reads them,
  so dispensing chunks run one at a time, each seeing the stock and the batches the previous
  one committed. Only the chunk's own patients and records are loaded before the lock: no other
  worker writes them.
  Other files' chunks keep running beside them, and the odd workers read the pharmacy's files
  before the clinical ones (`rif.PHARMACY_FIRST`, an order that keeps every dependency), so
  the workers' dispensing files fall at different times and their chunks seldom wait for the
  lock (docs/benchmarks.md).
* **File-level problems** (header, encoding, a broken quote) are reported by worker 0 only;
  each row is read, counted and reported by the one worker that owns its patient.

The merged report lists each file's issues in line order.
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import os
import queue as queue_module
import tempfile
import traceback
from pathlib import Path
from typing import Any

from django.db import connection, connections

from interchange import rif
from interchange.importer import ImportContext, Part, import_files
from interchange.reader import CohortSource
from interchange.report import ImportReport, Issue
from registry.models import User
from registry.safe_csv import unquote

POLL_SECONDS = 0.5


def possible() -> bool:
    """Workers need PostgreSQL, and committed data: not inside a transaction (a test's, a view's)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def run(
    path: str | Path,
    scans: dict[str, Any],
    *,
    user: User | None,
    report: ImportReport,
    tracker: Any,
    chunk_size: int,
    workers: int,
    data_cutoff: dt.date | None = None,
) -> None:
    """Run `workers` processes over the cohort at `path`; merge their counts and issues into `report`."""
    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    with tempfile.TemporaryDirectory(prefix="import-") as folder:
        paths = [Path(folder) / f"worker-{index}.csv" for index in range(workers)]
        # A forked child must not reuse the parent's socket: close it, each process opens its own.
        connections.close_all()
        processes = [
            context.Process(
                target=_worker,
                args=(str(path), scans, user, data_cutoff, index, workers, chunk_size, str(paths[index]), messages),
                name=f"import-worker-{index}",
            )
            for index in range(workers)
        ]
        for process in processes:
            process.start()
        counts: dict[int, dict[str, dict[str, int]]] = {}
        failure: str | None = None
        try:
            while len(counts) < workers and failure is None:
                try:
                    message = messages.get(timeout=POLL_SECONDS)
                except queue_module.Empty:
                    dead = [p for i, p in enumerate(processes) if i not in counts and not p.is_alive()]
                    if dead and messages.empty():
                        failure = f"{dead[0].name} stopped (exit code {dead[0].exitcode})."
                    continue
                kind, index, payload = message
                if kind == "progress":
                    file, rows = payload
                    tracker.file = file
                    tracker.advance(rows)
                elif kind == "done":
                    counts[index] = payload
                else:
                    failure = payload
        finally:
            if failure is not None:
                for process in processes:
                    if process.is_alive():
                        process.terminate()  # its open chunk rolls back; the import can be run again
            for process in processes:
                process.join()
        if failure is not None:
            raise RuntimeError(f"An import worker failed:\n{failure}")
        _merge(report, counts, paths)


def _merge(report: ImportReport, counts: dict[int, dict[str, dict[str, int]]], paths: list[Path]) -> None:
    for index in sorted(counts):
        for file, values in counts[index].items():
            total = report.counts(file)
            for name in ("read", "created", "updated", "unchanged", "rejected"):
                setattr(total, name, getattr(total, name) + values[name])
    order = {spec.name: position for position, spec in enumerate(rif.FILES)}
    issues: list[tuple[int, int, int, int, Issue]] = []
    for index, path in enumerate(paths):
        with path.open(encoding="utf-8", newline="") as stream:
            rows = csv.reader(stream)
            next(rows, None)  # the header
            for sequence, cells in enumerate(rows):
                # The worker's report went through the CSV writer: its formula quotes come off here.
                severity, file, line, key, columns, message = map(unquote, cells)
                issue = Issue(severity, file, int(line) if line else None, key, columns, message)
                issues.append((order.get(file, -1), issue.line or 0, index, sequence, issue))
    issues.sort(key=lambda entry: entry[:4])
    for *_, issue in issues:
        report.add(issue)


class _ProgressSender:
    """The worker's side of the progress bar: rows done since the last message, by file."""

    def __init__(self, messages: Any, index: int) -> None:
        self.messages, self.index, self.file = messages, index, ""

    def advance(self, rows: int) -> None:
        if rows:
            self.messages.put(("progress", self.index, (self.file, rows)))


def _worker(
    path: str,
    scans: dict[str, Any],
    user: User | None,
    data_cutoff: dt.date | None,
    index: int,
    count: int,
    chunk_size: int,
    report_path: str,
    messages: Any,
) -> None:
    try:
        with open(report_path, "w", encoding="utf-8", newline="") as stream:
            report = ImportReport(stream)
            with CohortSource(path) as source:
                ctx = ImportContext.load(report, user, data_cutoff)
                ctx.parallel = True
                import_files(
                    source,
                    scans,
                    ctx,
                    _ProgressSender(messages, index),
                    chunk_size,
                    Part(index, count),
                    order=rif.PHARMACY_FIRST if index % 2 else rif.FILES,
                )
            report.finish()
        counts = {file: counts.as_dict() for file, counts in report.files.items()}
        messages.put(("done", index, counts))
    except BaseException:  # noqa: BLE001 - sent to the parent, which raises it
        messages.put(("failed", index, f"worker {index} (pid {os.getpid()}):\n{traceback.format_exc()}"))
    finally:
        connections.close_all()
        messages.close()
        messages.join_thread()
