"""Statistics-package bundles: one dataset table as Stata, SPSS, SAS or R reads it, zipped with its
data dictionary, and logged like every export.

A bundle is a zip holding the data file (`patients.dta`, `.sav`, `.xpt`, or `patients.csv` with
`read_patients.R`), `dictionary.csv` and `dictionary.md` (the table's columns, generated from the
one spec in analytics/dataset.py), `value_labels.csv` (each code, its number in .dta/.sav, and
its label) and `README.txt` (what is inside, when, by whom, rows, SHA-256 of the data file).

The rows are the user's (`analytics.selectors`), pseudonymised, as in every other export. The
writers need the whole table as a data frame (pyreadstat writes from one), so a bundle holds the
table in memory; the web and the API build bundles in a worker (`analytics.export_jobs`).
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from analytics import dataset_columns, exports, labels, selectors
from analytics.models import ExportLog
from registry import safe_csv
from registry.models import User

if TYPE_CHECKING:
    import pandas as pd

#: Format -> what the analyst sees on the button.
BUNDLE_FORMATS: dict[str, str] = {
    "dta": "Stata (.dta)",
    "sav": "SPSS (.sav)",
    "xpt": "SAS transport v5 (.xpt)",
    "r": "R (CSV and script)",
}
READ_CHUNK_ROWS = 5_000

#: (rows done, rows in all, what is happening now)
Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, step: str) -> None:
    return None


@dataclass(frozen=True)
class BundleResult:
    rows: int
    sha256: str
    log: ExportLog


def row_count(table: str, user: User | None) -> int:
    """How many rows the table will have for this user (one query)."""
    if table == "patients":
        return selectors.export_patients(user).count()
    return selectors.export_records(user, selectors.LONG_TABLES[table].model).count()


def _chunks_of_rows(table: str, user: User | None) -> Iterable[pd.DataFrame]:
    # heavy: imported when used (docs/benchmarks.md, start-up)
    import pandas as pd

    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.dataset import build_patient_dataset

    names = [c.name for c in dataset_columns.TABLES[table]]
    if table == "patients":
        for frames in selectors.dataset_frame_chunks(user):
            yield build_patient_dataset(**frames)
        return
    # The queryset iterator (a server-side cursor on PostgreSQL) rather than the COPY stream, so
    # progress can be written on the same connection between chunks.
    rows = selectors.long_table_queryset(table, user).iterator(chunk_size=READ_CHUNK_ROWS)
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == READ_CHUNK_ROWS:
            yield pd.DataFrame(chunk, columns=names, dtype=object)
            chunk = []
    if chunk:
        yield pd.DataFrame(chunk, columns=names, dtype=object)


def table_frame(table: str, user: User | None, progress: Progress = _no_progress) -> pd.DataFrame:
    """The whole table for the user, as the CSV export has it, reporting rows read as it goes."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    import pandas as pd

    total = row_count(table, user)
    progress(0, total, "Reading rows")
    parts: list[pd.DataFrame] = []
    done = 0
    for part in _chunks_of_rows(table, user):
        parts.append(part)
        done += len(part)
        progress(done, max(total, done), "Reading rows")
    names = [c.name for c in dataset_columns.TABLES[table]]
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    return pd.concat(parts, ignore_index=True)[names]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = safe_csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _data_files(frame: pd.DataFrame, table: str, file_format: str, folder: Path, title: str) -> list[Path]:
    """Write the data file (and its reader script); the first path is the data file."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics import stat_files

    columns = dataset_columns.TABLES[table]
    value_labels = labels.value_labels(table)
    if file_format == "dta":
        path = folder / f"{table}.dta"
        stat_files.write_dta(frame, path, table=table, columns=columns, value_labels=value_labels, title=title)
        return [path]
    if file_format == "sav":
        path = folder / f"{table}.sav"
        stat_files.write_sav(frame, path, table=table, columns=columns, value_labels=value_labels, title=title)
        return [path]
    if file_format == "xpt":
        path = folder / f"{table}.xpt"
        stat_files.write_xpt(frame, path, table=table, columns=columns, title=title)
        program = folder / f"{table}_formats.sas"
        program.write_text(stat_files.sas_formats_program(table, columns, value_labels), encoding="ascii")
        return [path, program]
    if file_format == "r":
        path = folder / f"{table}.csv"
        exports.write_frame_csv(frame, table=table, path=path)
        script = folder / f"read_{table}.R"
        script.write_text(stat_files.r_script(table, columns, value_labels), encoding="utf-8")
        return [path, script]
    raise ValueError(f"Unknown bundle format {file_format!r}.")


def _dictionary_files(table: str, file_format: str, folder: Path) -> list[Path]:
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics import stat_files

    columns = dataset_columns.TABLES[table]
    rows: list[dict[str, Any]] = list(dataset_columns.dictionary_rows([table]))
    fields = list(dataset_columns.DICTIONARY_FIELDS)
    if file_format == "xpt":
        names = stat_files.sas_names(columns)
        for row in rows:
            row["sas_name"] = names[row["column"]]
        fields.append("sas_name")
    dictionary = folder / "dictionary.csv"
    _write_csv(dictionary, rows, fields)
    markdown = folder / "dictionary.md"
    markdown.write_text(dataset_columns.dictionary_markdown([table]), encoding="utf-8")
    value_labels = folder / "value_labels.csv"
    _write_csv(
        value_labels,
        stat_files.value_label_rows(table, columns, labels.value_labels(table)),
        ["table", "column", "value", "code", "label"],
    )
    return [dictionary, markdown, value_labels]


def _readme(table: str, file_format: str, files: list[Path], rows: int, sha256: str, user: User | None) -> str:
    who = user.get_username() if user is not None else "the system (management command)"
    return "\n".join(
        [
            "IL-2LD ALS/MND registry: analysis-ready dataset (pseudonymised)",
            "",
            f"Table: {table} ({dataset_columns.TABLE_DESCRIPTIONS[table]})",
            f"Format: {BUNDLE_FORMATS[file_format]}",
            f"Rows: {rows}",
            f"Exported: {timezone.localtime():%Y-%m-%d %H:%M %Z} by {who}",
            f"SHA-256 of {files[0].name}: {sha256}",
            "",
            "Files:",
            *[f"  {path.name}" for path in files],
            "  dictionary.csv, dictionary.md: every column's type, unit, definition and source",
            "  value_labels.csv: each coded value, its number in .dta/.sav, and its label",
            "",
            "No names, NHS numbers or birth dates; ages in whole years. Patients whose latest consent",
            "refuses data sharing are left out. This export is recorded in the registry's export log.",
            "",
        ]
    )


def bundle_name(table: str, file_format: str) -> str:
    return f"il2ld_{table}_{timezone.localdate():%Y%m%d}_{file_format}.zip"


def write_bundle(
    *,
    table: str,
    file_format: str,
    user: User | None,
    target: Path,
    channel: str,
    progress: Progress = _no_progress,
) -> BundleResult:
    """Write the table's bundle to `target` (a zip), logged from start to finish in ExportLog."""
    if table not in dataset_columns.TABLES or file_format not in BUNDLE_FORMATS:
        raise ValueError(f"No bundle for table {table!r} in format {file_format!r}.")
    log = exports.export_log_start(
        user=user, table=table, file_format=file_format, channel=channel, destination=str(target)
    )
    rows, completed = 0, False
    try:
        frame = table_frame(table, user, progress)
        rows = len(frame)
        progress(rows, rows, f"Writing the {BUNDLE_FORMATS[file_format]} file")
        title = f"IL-2LD ALS/MND registry: {table}, {timezone.localdate():%Y-%m-%d}"
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            files = _data_files(frame, table, file_format, folder, title)
            sha256 = _sha256(files[0])
            progress(rows, rows, "Packing with the data dictionary")
            readme = folder / "README.txt"
            readme.write_text(_readme(table, file_format, files, rows, sha256, user), encoding="utf-8")
            with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in [*files, *_dictionary_files(table, file_format, folder), readme]:
                    archive.write(path, arcname=path.name)
        completed = True
    finally:
        exports.export_log_finish(log, rows=rows, completed=completed)
    return BundleResult(rows=rows, sha256=sha256, log=log)
