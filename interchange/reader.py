"""Reading a cohort: a folder or a .zip of UTF-8 CSV files, row by row with line numbers.

Each file is scanned once before any of its rows is imported, to check that it is UTF-8 (a
Latin-1 or UTF-16 file would otherwise import with silently mangled text) and to count its
lines for the progress bar. Rows are then streamed, so memory does not grow with file size.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from interchange import rif

SCAN_BLOCK = 1 << 20
UTF8_BOM = codecs.BOM_UTF8


class SourceError(Exception):
    """The cohort as a whole cannot be read (not a folder or zip, or no patients.csv)."""


@dataclass(frozen=True)
class FileScan:
    lines: int
    encoding_error: str | None = None


class CohortSource:
    """The files of a cohort in a folder or a zip (at its root or in one top-level folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        self.ignored: list[str] = []
        if self.path.is_dir():
            for child in sorted(self.path.iterdir()):
                if child.is_file() and not child.name.startswith("."):
                    self._add(child.name, str(child))
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
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

    def scan(self, name: str) -> FileScan:
        """Count lines and check the whole file decodes as UTF-8, naming the first bad line."""
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        lines = 0
        error_message: str | None = None
        last = b""
        with self.open_binary(name) as handle:
            while block := handle.read(SCAN_BLOCK):
                if error_message is None:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError as error:
                        line = lines + block.count(b"\n", 0, error.start) + 1
                        bad = block[error.start : error.start + 1].hex().upper()
                        error_message = (
                            f"{name} is not UTF-8 (byte 0x{bad} on line {line}): none of its rows was imported. "
                            "Save it as 'CSV UTF-8' and import it again."
                        )
                lines += block.count(b"\n")
                last = block
        if error_message is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                error_message = f"{name} is not UTF-8 (it ends inside a character): none of its rows was imported."
        if last and not last.endswith(b"\n"):
            lines += 1
        return FileScan(lines=lines, encoding_error=error_message)

    def rows(self, name: str) -> Generator[tuple[int, list[str]], None, None]:
        """(first line number, cells) for every record, the header included (line 1)."""
        with self.open_binary(name) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            reader = csv.reader(text, strict=True)
            previous_end = 0
            for cells in reader:
                yield previous_end + 1, cells
                previous_end = reader.line_num


def _is_clutter(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)
