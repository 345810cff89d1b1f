"""The import report: every rejected row and every warning, with file, line and natural key.

Issues are streamed to a CSV file as they are found (an import of a badly broken cohort may
reject hundreds of thousands of rows), and only the first few per file are kept in memory
for the summary on screen.

The report grows with the number of distinct problems, not with the size of the input: a run of
the same problem on successive rows (two million empty rows) is one issue, "lines 5-2,000,004
(2,000,000 rows): empty row ignored.", and after `IMPORT_REPORT_MAX_ISSUES_PER_FILE` issues in
one file the rest are counted, not listed. Call `finish()` when the import is over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import IO

from django.conf import settings

from registry import safe_csv

ERROR = "error"
WARNING = "warning"
NOTE = "note"

REPORT_COLUMNS = ("severity", "file", "line", "key", "columns", "message")
SHOWN_PER_FILE = 20


@dataclass(frozen=True)
class Issue:
    severity: str
    file: str
    line: int | None
    key: str
    columns: str
    message: str

    def as_row(self) -> list[str]:
        return [
            self.severity,
            self.file,
            "" if self.line is None else str(self.line),
            self.key,
            self.columns,
            self.message,
        ]


@dataclass
class FileCounts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class ImportReport:
    """Collects outcomes per file and writes issues to `stream` (a text file opened for CSV)."""

    stream: IO[str] | None = None
    files: dict[str, FileCounts] = field(default_factory=dict)
    shown: list[Issue] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    max_issues_per_file: int | None = None

    def __post_init__(self) -> None:
        self._writer = safe_csv.writer(self.stream, lineterminator="\n") if self.stream is not None else None
        if self._writer is not None:
            self._writer.writerow(REPORT_COLUMNS)
        if self.max_issues_per_file is None:
            self.max_issues_per_file = settings.IMPORT_REPORT_MAX_ISSUES_PER_FILE
        self._shown_per_file: dict[str, int] = {}
        self._listed_per_file: dict[str, int] = {}
        self._unlisted_per_file: dict[str, int] = {}
        self._run: Issue | None = None  # the issue being repeated on successive rows
        self._run_last = 0
        self._run_rows = 0

    def counts(self, file: str) -> FileCounts:
        return self.files.setdefault(file, FileCounts())

    def add(self, issue: Issue) -> None:
        """Record an issue; the same problem on the next rows of the file joins it as one run."""
        run = self._run
        if (
            run is not None
            and issue.line is not None
            and run.line is not None
            and issue.line > self._run_last
            and (issue.severity, issue.file, issue.key, issue.columns, issue.message)
            == (run.severity, run.file, run.key, run.columns, run.message)
        ):
            self._run_last = issue.line
            self._run_rows += 1
            return
        self._flush()
        self._run, self._run_last, self._run_rows = issue, issue.line or 0, 1

    def _flush(self) -> None:
        run = self._run
        if run is None:
            return
        self._run = None
        if self._run_rows > 1:
            run = replace(
                run, message=f"lines {run.line:,}-{self._run_last:,} ({self._run_rows:,} rows): {run.message}"
            )
        self._record(run)

    def _record(self, issue: Issue) -> None:
        if issue.severity == ERROR:
            self.errors += 1
        elif issue.severity == WARNING:
            self.warnings += 1
            self.counts(issue.file).warnings += 1
        listed = self._listed_per_file.get(issue.file, 0)
        if self.max_issues_per_file is not None and listed >= self.max_issues_per_file:
            self._unlisted_per_file[issue.file] = self._unlisted_per_file.get(issue.file, 0) + 1
            return
        self._listed_per_file[issue.file] = listed + 1
        if self._writer is not None:
            self._writer.writerow(issue.as_row())
        shown = self._shown_per_file.get(issue.file, 0)
        if shown < SHOWN_PER_FILE:
            self.shown.append(issue)
            self._shown_per_file[issue.file] = shown + 1

    def finish(self) -> None:
        """Write the last run of repeats, and say how many issues were counted but not listed."""
        self._flush()
        for file, unlisted in self._unlisted_per_file.items():
            note = Issue(
                NOTE,
                file,
                None,
                "",
                "",
                f"{unlisted:,} more issue(s) in this file are counted but not listed: the report lists "
                f"{self.max_issues_per_file:,} per file (IMPORT_REPORT_MAX_ISSUES_PER_FILE).",
            )
            if self._writer is not None:
                self._writer.writerow(note.as_row())
            self.shown.append(note)
        self._unlisted_per_file.clear()

    def reject(self, file: str, line: int | None, key: str, message: str, columns: Iterable[str] = ()) -> None:
        """One rejected row: counted once, however many problems its message lists."""
        self.counts(file).rejected += 1
        self.add(Issue(ERROR, file, line, key, ";".join(columns), message))

    def file_error(self, file: str, message: str, *, line: int | None = 1, rows: int = 0) -> None:
        """A whole file (or its remainder) not imported; its `rows` data rows count as rejected."""
        counts = self.counts(file)
        counts.rejected += rows
        counts.read += rows
        self.add(Issue(ERROR, file, line, "", "", message))

    def warn(self, file: str, message: str, *, line: int | None = None, key: str = "", columns: str = "") -> None:
        self.add(Issue(WARNING, file, line, key, columns, message))

    def note(self, file: str, message: str, *, line: int | None = None) -> None:
        self.add(Issue(NOTE, file, line, "", "", message))

    @property
    def totals(self) -> FileCounts:
        total = FileCounts()
        for counts in self.files.values():
            for name, value in counts.as_dict().items():
                setattr(total, name, getattr(total, name) + value)
        return total

    def summary_lines(self) -> list[str]:
        """A plain-text summary for the console and the log."""
        lines = [f"{'file':<20} {'read':>9} {'created':>9} {'updated':>9} {'unchanged':>9} {'rejected':>9}"]
        for name, counts in self.files.items():
            lines.append(
                f"{name:<20} {counts.read:>9,} {counts.created:>9,} {counts.updated:>9,} "
                f"{counts.unchanged:>9,} {counts.rejected:>9,}"
            )
        total = self.totals
        lines.append(
            f"{'total':<20} {total.read:>9,} {total.created:>9,} {total.updated:>9,} "
            f"{total.unchanged:>9,} {total.rejected:>9,}"
        )
        return lines
