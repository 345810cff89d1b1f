"""manifest.csv: the version of the format a cohort is written in, and the data's cut-off date.

From RIF v2 a cohort carries `manifest.csv`, a header and one row:

    format,version,data_cutoff
    RIF,2,2026-12-03

The cut-off is the day the data were complete to (an export writes the day it ran). An import
judges the rules that depend on "today" on that day, not on the day it runs: a cohort exported
on one date and imported weeks later is read as it stood (`registry.models.same_day`).

A cohort without a manifest is RIF v1, written before the format was versioned: it imports as
it always did, its "today" being the day of the import. A manifest that cannot be read, or
names a version this registry does not read, stops the import before any row is read, with one
message saying what to do: the files of a version the registry does not know are not guessed at.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from interchange import rif
from interchange.reader import CohortSource, SourceError

#: A header and one row; anything larger is not a manifest (and is not read whole).
MANIFEST_LIMIT = 4096
_EXAMPLE = f"{','.join(rif.MANIFEST_COLUMNS)} then {rif.FORMAT_NAME},{rif.FORMAT_VERSION},YYYY-MM-DD"


class ManifestError(SourceError):
    """The manifest cannot be read or names a version the registry does not read: nothing is imported."""


@dataclass(frozen=True)
class Manifest:
    version: int
    #: None for a v1 cohort (no manifest): the rules then judge on the day of the import.
    data_cutoff: dt.date | None

    @property
    def label(self) -> str:
        return rif.version_label(self.version)


def manifest_rows(data_cutoff: dt.date) -> list[list[str]]:
    """The manifest an export writes: this registry's version and the data's cut-off."""
    return [list(rif.MANIFEST_COLUMNS), [rif.FORMAT_NAME, str(rif.FORMAT_VERSION), data_cutoff.isoformat()]]


def read_manifest(source: CohortSource, *, today: dt.date) -> Manifest:
    """The cohort's version and cut-off; raises ManifestError with what to do when it cannot import."""
    if not source.has(rif.MANIFEST_NAME):
        return Manifest(version=1, data_cutoff=None)
    values = _manifest_values(source)
    if values["format"] != rif.FORMAT_NAME:
        raise _error(f"format '{values['format']}' is not {rif.FORMAT_NAME}, the registry interchange format")
    version = values["version"]
    if not (version.isascii() and version.isdigit()):
        raise _error(f"version '{version}' is not a whole number")
    number = int(version)
    if number not in rif.READABLE_VERSIONS:
        readable = ", ".join(rif.version_label(v) for v in rif.READABLE_VERSIONS)
        raise ManifestError(
            f"{rif.MANIFEST_NAME} says the cohort is {rif.version_label(number)}; this registry reads {readable}. "
            f"Nothing was imported. Export the cohort again as {rif.version_label()} (the changes between versions "
            "are listed in docs/interchange.md, 'Versions'), or import it into a registry that reads its version."
        )
    cutoff = _cutoff(values["data_cutoff"], required=number >= 2, today=today)
    return Manifest(version=number, data_cutoff=cutoff)


def _manifest_values(source: CohortSource) -> dict[str, str]:
    with source.open_binary(rif.MANIFEST_NAME) as handle:
        raw = handle.read(MANIFEST_LIMIT + 1)
    if len(raw) > MANIFEST_LIMIT:
        raise _error(f"it is over {MANIFEST_LIMIT:,} bytes, not a header and one row")
    try:
        text = raw.decode("utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if any(row)]
    except (UnicodeDecodeError, csv.Error) as error:
        raise _error(f"it is not a UTF-8 CSV file ({error})") from error
    if len(rows) != 2:
        raise _error(f"it holds {len(rows)} non-empty row(s), not a header and one row")
    header, row = rows
    missing = [name for name in rif.MANIFEST_COLUMNS if name not in header]
    if missing or len(row) != len(header):
        raise _error(f"its header must name {', '.join(rif.MANIFEST_COLUMNS)}, with one value each")
    return dict(zip(header, row, strict=True))


def _cutoff(text: str, *, required: bool, today: dt.date) -> dt.date | None:
    if not text:
        if required:
            raise _error("data_cutoff is empty: give the date the data were complete to")
        return None
    try:
        cutoff = rif.parse_date(text)
    except rif.CellError as error:
        raise _error(f"data_cutoff: {error}") from error
    if cutoff > today:
        raise _error(f"data_cutoff {cutoff.isoformat()} is in the future")
    return cutoff


def _error(problem: str) -> ManifestError:
    return ManifestError(
        f"{rif.MANIFEST_NAME} cannot be read: {problem}. Nothing was imported. "
        f"A manifest is a header and one row: {_EXAMPLE} (the data cut-off); "
        f"a cohort of {rif.version_label(1)} has no manifest."
    )
