"""Reading a cohort: a folder or a .zip of UTF-8 CSV files, row by row with line numbers.

Each file is scanned once, a block at a time, before any of its rows is imported: to check that
it is UTF-8 (a Latin-1 or UTF-16 file would otherwise import with silently mangled text), holds
no NUL byte, no line longer than `IMPORT_MAX_LINE_BYTES` and no more than
`IMPORT_MAX_ROWS_PER_FILE` rows, and to count its lines for the progress bar. A zip member
is refused before it is read if it would unpack to more than `IMPORT_MAX_FILE_BYTES` or
more than `IMPORT_MAX_COMPRESSION_RATIO` times its packed size (a "zip bomb"); an encrypted,
corrupt (bad CRC) or unreadable file is refused when the scan meets it. Each of these is a
file-level error in the report, and the other files still import. Rows are then streamed from
a file whose every line is known to be short, so memory does not grow with the input.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings

from interchange import rif

SCAN_BLOCK = 1 << 20
UTF8_BOM = codecs.BOM_UTF8


class SourceError(Exception):
    """The cohort as a whole cannot be read (not a folder or zip, or no patients.csv)."""


#: What reading a damaged or hostile file raises: a zip that is encrypted (RuntimeError) or uses
#: an unsupported method (NotImplementedError), a bad CRC (BadZipFile), corrupt deflate data
#: (zlib.error), a truncated member (EOFError), a file that cannot be read (OSError).
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError)
#: Only zip members that unpack beyond this are held to the compression ratio (tiny files compress
#: oddly well or badly, and cannot hurt).
RATIO_FLOOR_BYTES = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one file may hold (settings `IMPORT_MAX_*`, docs/interchange.md "Limits")."""

    line_bytes: int
    file_bytes: int
    compression_ratio: int
    rows: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            line_bytes=settings.IMPORT_MAX_LINE_BYTES,
            file_bytes=settings.IMPORT_MAX_FILE_BYTES,
            compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
            rows=settings.IMPORT_MAX_ROWS_PER_FILE,
        )


@dataclass(frozen=True)
class FileScan:
    lines: int
    #: Why the file cannot be imported at all (encoding, NUL, a limit, damage), or None.
    error: str | None = None


class CohortSource:
    """The files of a cohort in a folder or a zip (at its root or in one top-level folder)."""

    def __init__(self, path: str | Path, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits.from_settings()
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        self.ignored: list[str] = []
        if self.path.is_dir():
            for child in sorted(self.path.iterdir()):
                if child.is_file() and not child.name.startswith("."):
                    self._add(child.name, str(child))
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise SourceError(f"{self.path.name} is a damaged zip file and cannot be read ({error}).") from error
            names = [n for n in self._zip.namelist() if not n.endswith("/") and not _is_clutter(n)]
            top_levels = {PurePosixPath(n).parts[0] for n in names if len(PurePosixPath(n).parts) > 1}
            prefix = ""
            if not any(len(PurePosixPath(n).parts) == 1 for n in names) and len(top_levels) == 1:
                prefix = f"{top_levels.pop()}/"
            for name in sorted(names):
                if name.startswith(prefix) and "/" not in name[len(prefix) :]:
                    self._add(name[len(prefix) :], name)
                else:
                    self.ignored.append(name)
        elif self.path.is_file():
            raise SourceError(f"{self.path.name} is neither a folder nor a .zip file.")
        else:
            raise SourceError(f"{self.path} does not exist.")
        if rif.PATIENTS.name not in self._members:
            raise SourceError(
                f"No {rif.PATIENTS.name} found in {self.path.name}: a cohort needs it (the other files are optional)."
            )

    def _add(self, name: str, location: str) -> None:
        if name in rif.FILES_BY_NAME or name == rif.MANIFEST_NAME:
            self._members[name] = location
        else:
            self.ignored.append(name)

    def __enter__(self) -> CohortSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def has(self, name: str) -> bool:
        return name in self._members

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in rif.FILES if spec.name in self._members]

    def open_binary(self, name: str) -> IO[bytes]:
        location = self._members[name]
        if self._zip is not None:
            return self._zip.open(location)
        return open(location, "rb")  # the caller closes it

    def _refused_before_reading(self, name: str) -> str | None:
        """A zip member that would unpack too big, or too many times its packed size."""
        if self._zip is None:
            return None
        info = self._zip.getinfo(self._members[name])
        limits = self.limits
        if info.file_size > limits.file_bytes:
            return (
                f"{name} would unpack to {info.file_size:,} bytes, more than the limit of {limits.file_bytes:,} "
                "(IMPORT_MAX_FILE_BYTES): none of its rows was imported."
            )
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.compression_ratio * max(
            info.compress_size, 1
        ):
            return (
                f"{name} unpacks to {info.file_size / max(info.compress_size, 1):,.0f} times its packed size, more "
                f"than the limit of {limits.compression_ratio} (IMPORT_MAX_COMPRESSION_RATIO): "
                "none of its rows was imported."
            )
        return None

    def scan(self, name: str) -> FileScan:
        """Count lines and check the whole file (encoding, NUL bytes, limits), naming the first bad line."""
        refused = self._refused_before_reading(name)
        if refused is not None:
            return FileScan(lines=0, error=refused)
        try:
            return self._scan(name)
        except UNREADABLE as error:
            return FileScan(lines=0, error=f"{name} cannot be read ({_reason(error)}): none of its rows was imported.")

    def _scan(self, name: str) -> FileScan:
        limits = self.limits
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        lines = 0
        size = 0
        line_length = 0  # bytes since the last newline
        encoding_error: str | None = None
        last = b""
        with self.open_binary(name) as handle:
            while block := handle.read(SCAN_BLOCK):
                size += len(block)
                if size > limits.file_bytes:
                    return FileScan(
                        lines,
                        f"{name} is larger than the limit of {limits.file_bytes:,} bytes "
                        "(IMPORT_MAX_FILE_BYTES): none of its rows was imported.",
                    )
                nul = block.find(b"\x00")
                if nul >= 0:
                    line = lines + block.count(b"\n", 0, nul) + 1
                    return FileScan(
                        lines,
                        f"{name} holds a NUL byte (line {line:,}), so it is not a text file: "
                        "none of its rows was imported. Save it as 'CSV UTF-8' and import it again.",
                    )
                if encoding_error is None:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError as error:
                        # Counted on to the end (within the limits), so the report counts every row.
                        line = lines + block.count(b"\n", 0, error.start) + 1
                        bad = block[error.start : error.start + 1].hex().upper()
                        encoding_error = (
                            f"{name} is not UTF-8 (byte 0x{bad} on line {line:,}): none of its rows "
                            "was imported. Save it as 'CSV UTF-8' and import it again."
                        )
                too_long = _long_line(block, line_length, limits.line_bytes)
                if too_long is not None:
                    line = lines + block.count(b"\n", 0, too_long) + 1
                    return FileScan(
                        lines,
                        f"{name}: line {line:,} is longer than the limit of "
                        f"{limits.line_bytes:,} bytes (IMPORT_MAX_LINE_BYTES): none of its rows was imported.",
                    )
                newline = block.rfind(b"\n")
                line_length = line_length + len(block) if newline < 0 else len(block) - newline - 1
                lines += block.count(b"\n")
                if lines > limits.rows + 1:
                    return FileScan(
                        lines,
                        f"{name} has more than {limits.rows:,} rows, the limit "
                        "(IMPORT_MAX_ROWS_PER_FILE): none of its rows was imported.",
                    )
                last = block
        if last and not last.endswith(b"\n"):
            lines += 1
        if encoding_error is not None:
            return FileScan(lines, encoding_error)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return FileScan(lines, f"{name} is not UTF-8 (it ends inside a character): none of its rows was imported.")
        return FileScan(lines=lines)

    def rows(self, name: str) -> Generator[tuple[int, list[str]], None, None]:
        """(first line number, cells) for every record, the header included (line 1)."""
        with self.open_binary(name) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            reader = csv.reader(text, strict=True)
            previous_end = 0
            for cells in reader:
                yield previous_end + 1, cells
                previous_end = reader.line_num


def _long_line(block: bytes, carried: int, limit: int) -> int | None:
    """Where in `block` a line (`carried` bytes of it already before the block) passes `limit`."""
    first = block.find(b"\n")
    if carried + (len(block) if first < 0 else first) > limit:
        return 0
    if len(block) <= limit:
        return None  # every later line of the block is shorter than the block: the common case
    start = 0
    length = carried
    while True:
        newline = block.find(b"\n", start)
        end = len(block) if newline < 0 else newline
        if length + end - start > limit:
            return start
        if newline < 0:
            return None
        start, length = newline + 1, 0


def _reason(error: BaseException) -> str:
    if isinstance(error, RuntimeError) and "encrypted" in str(error):
        return "it is encrypted: import an unencrypted copy"
    if isinstance(error, zipfile.BadZipFile | zlib.error | EOFError):
        return f"the zip is damaged: {error}"
    return str(error) or type(error).__name__


def _is_clutter(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)
