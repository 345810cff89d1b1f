"""Import a cohort in the registry interchange format: files in order, rows in chunks.

The order is fixed by what refers to what: patients.csv first, then the deaths from
events.csv (a death bounds every other record of its patient), then the other events, the
ALSFRS-R, biomarkers and adverse events, then cycles, and dispensing last (it names cycles).
The clinical and the pharmacy's files may also go the other way round (`rif.PHARMACY_FIRST`,
which a parallel import's odd workers use).
Each chunk is committed on its own, so a long import shows progress to other sessions and an
interrupted one can simply be run again: rows already imported are then unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from interchange import rif
from interchange.loaders import (
    LOADERS,
    DeathLoader,
    EventLoader,
    ImportContext,
    Loader,
    Row,
)
from interchange.reader import CohortSource, FileScan
from interchange.report import ImportReport
from registry.models import EventType
from registry.safe_csv import unquote

DEFAULT_CHUNK_SIZE = 10_000
_PARSED_LIMIT = 20_000  # cell texts remembered per column (dates, scores, units; not every lab value)
_UNPARSED = object()
Progress = Callable[[int, int, str], None]


@dataclass
class ImportOutcome:
    report: ImportReport
    seconds: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class Tracking(Protocol):
    """What a reader reports progress to: the in-process Tracker or a worker's message sender."""

    file: str

    def advance(self, rows: int) -> None: ...


class Tracker:
    def __init__(self, total: int, callback: Progress | None) -> None:
        self.total, self.done, self.callback, self.file = total, 0, callback, ""

    def advance(self, rows: int) -> None:
        self.done += rows
        if self.callback is not None and rows:
            self.callback(self.done, self.total, self.file)


class _Header:
    """The header of one file: where each known column is, and whether the file can be read."""

    def __init__(self, spec: rif.FileSpec, names: list[str], report: ImportReport) -> None:
        self.spec = spec
        self.width = len(names)
        self.index = {name: position for position, name in enumerate(names)}
        self.fatal: str | None = None
        file = spec.name
        duplicated = sorted({name for name in names if names.count(name) > 1})
        missing = [name for name in spec.required_columns if name not in self.index]
        if duplicated:
            self.fatal = f"column(s) {', '.join(duplicated)} appear more than once in the header"
        elif missing:
            semicolons = len(names) == 1 and ";" in names[0]
            hint = " (the file seems to be separated by semicolons: use commas)" if semicolons else ""
            self.fatal = f"missing required column(s): {', '.join(missing)}{hint}"
        known = set(spec.column_names)
        export_only = {column.name for column in spec.export_only}
        for name in names:
            if name in known or name in export_only or not name:
                continue
            if name.strip().lower() in rif.IDENTIFIER_COLUMNS:
                report.warn(
                    file,
                    f"column '{name}' looks like a direct identifier: it was ignored and nothing from it was stored. "
                    "Identifiers never travel in the interchange format; remove them from the file.",
                    line=1,
                    columns=name,
                )
            else:
                report.warn(file, f"unknown column '{name}' was ignored.", line=1, columns=name)
        derived = [name for name in names if name in export_only]
        if derived:
            report.note(
                file,
                f"derived column(s) {', '.join(derived)} were ignored: the registry computes them from the items.",
                line=1,
            )
        present = [column for column in spec.columns if column.name in self.index]
        self.text_columns = [(c.name, self.index[c.name]) for c in present if c.parse is rif.parse_text]
        self.text_checks = [(c.name, self.index[c.name], c.needs_value) for c in present if c.parse is rif.parse_text]
        self.typed_columns: list[tuple[str, int, rif.Parser, bool, dict[str, Any]]] = [
            (c.name, self.index[c.name], c.parse, c.needs_value, {}) for c in present if c.parse is not rif.parse_text
        ]
        self.key_positions = [self.index.get(name) for name in spec.key]


def _key_text(header: _Header, cells: list[str]) -> str:
    parts = [cells[p] if p is not None and p < len(cells) else "" for p in header.key_positions]
    return " / ".join(parts)


class FirstLines:
    """The line on which each natural key (its hash) was first read in a file, for the duplicate
    check, which must find a key of any earlier row. A dict of Python ints costs about 110 bytes
    a key (54 MB for the 490,000 ALSFRS-R rows of a worker at 100,000 patients), so only this
    chunk's keys are in a dict, checked as each row is read; at the end of the chunk they are
    checked against the earlier chunks' keys all at once and folded into two sorted int64 arrays
    (16 bytes a key): the import's memory stays nearly flat in the file's size (issue 18, item 6)."""

    def __init__(self) -> None:
        self.recent: dict[int, int] = {}
        self.digests: Any = None  # numpy int64, sorted; the lines in the same order
        self.lines: Any = None

    def first_in_chunk(self, digest: int) -> int | None:
        return self.recent.get(digest)

    def add(self, digest: int, line: int) -> None:
        self.recent[digest] = line

    def fold(self) -> dict[int, int]:
        """Fold this chunk's keys into the earlier chunks'; return those already read in an
        earlier chunk, with the line each was first read on (they stay at that line)."""
        if not self.recent:
            return {}
        # heavy: imported when used (docs/benchmarks.md, start-up)
        import numpy as np

        digests = np.fromiter(self.recent.keys(), dtype=np.int64, count=len(self.recent))
        lines = np.fromiter(self.recent.values(), dtype=np.int64, count=len(self.recent))
        self.recent = {}
        order = digests.argsort()
        digests, lines = digests[order], lines[order]
        if self.digests is None:
            self.digests, self.lines = digests, lines
            return {}
        at = self.digests.searchsorted(digests)
        within = np.minimum(at, len(self.digests) - 1)
        earlier = self.digests[within] == digests
        found = dict(zip(digests[earlier].tolist(), self.lines[within[earlier]].tolist(), strict=True))
        fresh = ~earlier
        self.digests = np.insert(self.digests, at[fresh], digests[fresh])
        self.lines = np.insert(self.lines, at[fresh], lines[fresh])
        return found


class _FileReader:
    """Parses, deduplicates and chunks the rows of one file for its loader."""

    def __init__(
        self,
        source: CohortSource,
        spec: rif.FileSpec,
        header: _Header,
        ctx: ImportContext,
        tracker: Tracking,
        chunk_size: int,
        lines: int,
        part: Part | None = None,
    ) -> None:
        self.source, self.spec, self.header, self.ctx = source, spec, header, ctx
        self.tracker, self.chunk_size, self.lines = tracker, chunk_size, lines
        self.report = ctx.report
        self.counts = ctx.report.counts(spec.name)
        self.csv_error_reported = False
        self.part = part
        # Problems of the file rather than of a row (a broken quote, an empty row) are reported
        # once: by the first worker of a parallel import.
        self.primary = part is None or part.index == 0
        self.patient_position = header.index.get("patient_id")

    def run(self, loader: Loader, accept: Callable[[list[str]], bool] | None = None) -> None:
        self.loader = loader
        seen = FirstLines()
        chunk: list[Row] = []
        pending = 0
        part, position = self.part, self.patient_position
        for line, cells in self._records():
            if accept is not None and not accept(cells):
                continue
            if part is not None and not part.owns(
                cells[position] if position is not None and position < len(cells) else ""
            ):
                continue
            self.counts.read += 1
            pending += 1
            row = self._parse(line, cells, seen)
            if row is not None:
                chunk.append(row)
            if len(chunk) >= self.chunk_size:
                loader.process(self._first_occurrences(chunk, seen))
                self.tracker.advance(pending)
                chunk, pending = [], 0
        if chunk:
            loader.process(self._first_occurrences(chunk, seen))
        self.tracker.advance(pending)

    def _first_occurrences(self, chunk: list[Row], seen: FirstLines) -> list[Row]:
        """The chunk less the rows whose key an earlier chunk held (each rejected as a duplicate)."""
        earlier = seen.fold()
        if not earlier:
            return chunk
        kept = []
        for row in chunk:
            first = earlier.get(self._digest(row.values))
            if first is None:
                kept.append(row)
            else:
                self._reject_duplicate(row.line, row.cells, first)
        return kept

    def _digest(self, values: dict[str, Any]) -> int:
        """The row's natural key, hashed: what the duplicate check compares."""
        return hash(tuple(values[name] for name in self.spec.key))

    def _reject_duplicate(self, line: int, cells: list[str], first: int) -> None:
        self.report.reject(
            self.spec.name,
            line,
            _key_text(self.header, cells),
            f"duplicate of line {first}: the same {', '.join(self.spec.key)} appears twice in the file; "
            "only the first was imported.",
            self.spec.key,
        )

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        with contextlib.closing(self.source.rows(self.spec.name)) as rows:
            yield from self._data_records(rows)

    def _data_records(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        next(rows)  # the header
        line = 1
        while True:
            try:
                line, cells = next(rows)
            except StopIteration:
                return
            except csv.Error as error:
                if not self.csv_error_reported and self.primary:
                    remaining = max(self.lines - line, 1)
                    self.report.file_error(
                        self.spec.name,
                        f"line {line + 1} is not valid CSV ({error}): it and the rest of the file were not imported.",
                        line=line + 1,
                        rows=remaining,
                    )
                    self.tracker.advance(remaining)
                    self.csv_error_reported = True
                return
            if not cells or not any(cells):
                if cells and self.primary:
                    self.report.warn(self.spec.name, "empty row ignored.", line=line)
                continue
            yield line, cells

    def _parse(self, line: int, cells: list[str], seen: FirstLines) -> Row | None:
        header = self.header
        if len(cells) != header.width:
            self.report.reject(
                self.spec.name,
                line,
                _key_text(header, cells),
                f"the row has {len(cells)} values but the header has {header.width} columns "
                "(check for an unquoted comma in a text value).",
            )
            self._unreadable(line, cells)
            return None
        # Text cells are taken as they are (less the quote the registry's CSV writer puts before
        # a formula-like text, registry.safe_csv); typed cells go through their column's parser.
        values: dict[str, Any] = {name: unquote(cells[position]) for name, position in header.text_columns}
        problems: list[str] = []
        columns: list[str] = []
        for name, position, needs_value in header.text_checks:
            if not cells[position]:
                values[name] = None
                if needs_value:
                    problems.append(f"{name}: a value is required.")
                    columns.append(name)
        self._parse_typed(cells, values, problems, columns)
        if problems:
            order = {name: i for i, name in enumerate(self.spec.column_names)}
            ranked = sorted(zip(columns, problems, strict=True), key=lambda pair: order[pair[0]])
            columns, problems = [c for c, _ in ranked], [p for _, p in ranked]
            self.report.reject(self.spec.name, line, _key_text(header, cells), " ".join(problems), columns)
            self._unreadable(line, cells)
            return None
        digest = self._digest(values)
        # An earlier chunk's keys are checked at the chunk's end (`_first_occurrences`); a third
        # row with the key names the second when that is in this chunk: the same key either way.
        first = seen.first_in_chunk(digest)
        if first is not None:
            self._reject_duplicate(line, cells, first)
            return None
        seen.add(digest, line)
        return Row(line, values, cells, header.key_positions)

    def _parse_typed(self, cells: list[str], values: dict[str, Any], problems: list[str], columns: list[str]) -> None:
        """Typed cells through their column's parser; a problem per cell that does not parse."""
        for name, position, parse, needs_value, parsed in self.header.typed_columns:
            raw = cells[position]
            if raw:
                # Parsers are pure and their values immutable: a cell text seen before in the
                # column is not parsed again (an ALSFRS-R item column holds five texts).
                value = parsed.get(raw, _UNPARSED)
                if value is _UNPARSED:
                    try:
                        value = parse(raw)
                    except rif.CellError as error:
                        problems.append(f"{name}: {error}.")
                        columns.append(name)
                        continue
                    if len(parsed) < _PARSED_LIMIT and parse is not rif.parse_criteria:  # a list: mutable
                        parsed[raw] = value
                values[name] = value
            else:
                values[name] = None
                if needs_value:
                    problems.append(f"{name}: a value is required.")
                    columns.append(name)

    def _unreadable(self, line: int, cells: list[str]) -> None:
        """Tell the loader about a row it never saw, so rows that depend on it say why they fail."""
        raw = {name: cells[position] for name, position in self.header.index.items() if position < len(cells)}
        self.loader.on_unreadable(line, raw)


@dataclass(frozen=True)
class Part:
    """The share of the patients one worker imports: those whose id hashes to `index`."""

    index: int
    count: int

    def owns(self, patient_id: str) -> bool:
        # crc32, not hash(): the same in every process whatever PYTHONHASHSEED is.
        return zlib.crc32(patient_id.encode()) % self.count == self.index


def import_files(
    source: CohortSource,
    scans: dict[str, FileScan],
    ctx: ImportContext,
    tracker: Tracking,
    chunk_size: int,
    part: Part | None = None,
    order: Sequence[rif.FileSpec] = rif.FILES,
) -> None:
    """The files in `order` (a dependency order: `rif.FILES` or `rif.PHARMACY_FIRST`); with
    `part`, only that worker's patients' rows.

    Problems of a whole file (its header, its encoding) are reported by the first worker only.
    """
    primary = part is None or part.index == 0
    file_report = ctx.report if primary else ImportReport()
    for spec in order:
        scan = scans.get(spec.name)
        if scan is None:
            continue
        tracker.file = spec.name
        rows = max(scan.lines - 1, 0) if primary else 0
        ctx.report.counts(spec.name)
        if scan.error:
            file_report.file_error(spec.name, scan.error, line=None, rows=rows)
            tracker.advance(rows)
            _note_unreadable(ctx, spec, scan.error)
            continue
        names = _header_names(source, spec.name)
        header = _Header(spec, names, file_report)
        if not names:
            header.fatal = "the file is empty (no header row)"
        if header.fatal:
            file_report.file_error(spec.name, f"{header.fatal}; the file was not imported.", rows=rows)
            tracker.advance(rows)
            _note_unreadable(ctx, spec, header.fatal)
            continue
        ctx.present[spec.name] = set(header.index)
        reader = _FileReader(source, spec, header, ctx, tracker, chunk_size, scan.lines, part)
        if spec is rif.EVENTS:
            is_death = _death_filter(header.index["event_type"])
            reader.run(DeathLoader(ctx), accept=is_death)
            reader.run(EventLoader(ctx), accept=_negated(is_death))
        else:
            loader = LOADERS[spec.name](ctx)
            reader.run(loader)


def note_dispensing(report: ImportReport) -> None:
    created = report.files.get(rif.DISPENSING.name)
    if created is not None and created.created:
        report.note(
            rif.DISPENSING.name,
            f"{created.created:,} dispensing(s) imported without "
            f"{', '.join(sorted(rif.DISPENSING_FIELDS_NOT_IN_RIF))}: the format does not carry these "
            "point-of-supply records, which stay with the dispensing pharmacy.",
        )


def _header_names(source: CohortSource, name: str) -> list[str]:
    with contextlib.closing(source.rows(name)) as rows:
        try:
            return next(rows)[1]
        except (StopIteration, csv.Error):
            return []


def _negated(accept: Callable[[list[str]], bool]) -> Callable[[list[str]], bool]:
    return lambda cells: not accept(cells)


def _death_filter(position: int) -> Callable[[list[str]], bool]:
    """Deaths are imported in a first pass over events.csv, everything else in a second."""

    def is_death(cells: list[str]) -> bool:
        return position < len(cells) and cells[position] == EventType.DEATH

    return is_death


def _note_unreadable(ctx: ImportContext, spec: rif.FileSpec, reason: str) -> None:
    if spec is rif.PATIENTS:
        ctx.patients_file_error = reason
