"""The import report: every rejected row and every warning, with file, line and natural key.

Issues are streamed to a CSV file as they are found (an import of a badly broken cohort may
reject hundreds of thousands of rows), and only the first few per file are kept in memory
for the summary on screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import IO

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

    def __post_init__(self) -> None:
        self._writer = safe_csv.writer(self.stream, lineterminator="\n") if self.stream is not None else None
        if self._writer is not None:
            self._writer.writerow(REPORT_COLUMNS)
        self._shown_per_file: dict[str, int] = {}

    def counts(self, file: str) -> FileCounts:
        return self.files.setdefault(file, FileCounts())

    def add(self, issue: Issue) -> None:
        if self._writer is not None:
            self._writer.writerow(issue.as_row())
        if issue.severity == ERROR:
            self.errors += 1
        elif issue.severity == WARNING:
            self.warnings += 1
            self.counts(issue.file).warnings += 1
        shown = self._shown_per_file.get(issue.file, 0)
        if shown < SHOWN_PER_FILE:
            self.shown.append(issue)
            self._shown_per_file[issue.file] = shown + 1

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
