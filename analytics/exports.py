"""Writing the dataset out: streamed CSV, Parquet, the data dictionary, and the export log.

Shared by the API, the analyst web page and `manage.py export_dataset`, so every channel
writes the same bytes and logs the same way.

CSV rules (docs/dataset.md): UTF-8, comma-separated, CRLF line ends (RFC 4180), a header row, empty cell for missing,
ISO dates, booleans as True/False. Text cells starting with = + - @ tab or carriage return
get a leading single quote so a spreadsheet shows them instead of running them as formulas
(OWASP "CSV injection"); numeric cells are never altered, so a negative slope stays -0.52.

On PostgreSQL a long table's CSV is written by `COPY (SELECT …) TO STDOUT` straight to the
file or the response (`copy_csv_body`), with the same bytes as the Python writer, which still
writes the derived patient table and every table on SQLite.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.db import connection, transaction
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from analytics import dataset_columns, selectors
from analytics.models import ExportJob, ExportLog
from registry import safe_csv
from registry.models import User

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

TABLES: tuple[str, ...] = tuple(dataset_columns.TABLES)
FORMATS = ("csv", "parquet")
DICTIONARY_FORMATS = ("csv", "md")
CSV_CHUNK_ROWS = 2_000
PARQUET_ROW_GROUP = 25_000


def _arrow_types() -> dict[str, pa.DataType]:
    # heavy: imported when used (docs/benchmarks.md, start-up)
    import pyarrow as pa

    return {
        "string": pa.string(),
        "category": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us", tz="UTC"),
    }


# ---- export log ---------------------------------------------------------------------------
def export_log_start(
    *, user: User | None, table: str, file_format: str, channel: str, destination: str = ""
) -> ExportLog:
    return ExportLog.objects.create(
        user=user if user is not None and user.pk else None,
        username=user.get_username() if user is not None else "",
        table=table,
        file_format=file_format,
        channel=channel,
        destination=destination,
    )


def export_log_finish(log: ExportLog, *, rows: int, completed: bool = True) -> None:
    log.row_count = rows
    log.completed = completed
    log.finished_at = timezone.now()
    log.save(update_fields=["row_count", "completed", "finished_at"])


# ---- CSV ------------------------------------------------------------------------------------
def _text_indexes(table: str) -> list[int]:
    """Columns that can hold free text. Categories are fixed vocabularies (model choices) and
    study ids a pattern the database holds (`Column.formula_safe`): neither ever starts with a
    formula character, so they need no scan."""
    return [
        i
        for i, column in enumerate(dataset_columns.TABLES[table])
        if column.type == "string" and not column.formula_safe
    ]


def csv_chunks(
    header: Iterable[str], chunks: Iterable[list[Any]], text_indexes: list[int], counter: list[int]
) -> Iterator[str]:
    """CSV text for each chunk of rows: constant memory however many rows there are."""
    buffer = io.StringIO()
    # RFC 4180: CRLF rows, so a field holding CR or LF is quoted; only the text columns are
    # neutralised, so a numeric column's -0.52 stays a number (registry.safe_csv).
    writer = safe_csv.writer(buffer, text_columns=text_indexes)
    writer.writerow(header)
    yield buffer.getvalue()
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(chunk)
        counter[0] += len(chunk)
        yield buffer.getvalue()


def _frame_chunks(frame: pd.DataFrame, size: int) -> selectors.RowChunks:
    """Frame rows in lists of `size`, as plain Python values with missing as None (written as
    empty cells). Converted a slice at a time: an object copy of the whole table (100,000
    patients × 36 columns of boxed values) would double the export's memory for nothing."""
    for start in range(0, len(frame), size):
        part = frame.iloc[start : start + size]
        yield list(part.astype(object).where(part.notna(), None).itertuples(index=False, name=None))


def patient_table_chunks(user: User | None, size: int) -> selectors.RowChunks:
    """The patient table's rows in lists of at most `size`, read and derived a chunk of patients
    at a time (`selectors.dataset_frame_chunks`, in patient_id order): memory holds one chunk's
    input frames and derived rows, whatever the cohort's size. Every derivation is per patient,
    so the chunks' tables, concatenated, are the whole cohort's table."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.dataset import build_patient_dataset

    for frames in selectors.dataset_frame_chunks(user):
        yield from _frame_chunks(build_patient_dataset(**frames), size)


def table_chunks(
    table: str, user: User | None, *, as_csv_text: bool = False, size: int | None = None
) -> selectors.RowChunks:
    """The table's rows in lists of at most `size`: long tables streamed from the database,
    the patient table derived chunk by chunk of patients."""
    size = size or CSV_CHUNK_ROWS
    if table == "patients":
        return patient_table_chunks(user, size)
    return selectors.long_table_chunks(table, user, as_csv_text=as_csv_text, chunk_size=size)


class CrlfRows:
    """COPY's CSV (rows ended by LF) as the CSV writer's (rows ended by CRLF, RFC 4180), a
    block at a time, counting the rows.

    A line feed inside a quoted cell is part of the value and stays as it is; a line feed
    outside quotes ends a row. COPY doubles a quote inside a quoted cell, so a line feed is
    outside quotes exactly when an even number of quotes came before it in the stream.
    """

    def __init__(self) -> None:
        self.rows = 0
        self._in_quotes = False

    def convert(self, block: bytes) -> bytes:
        if b'"' not in block:  # the usual block: no quoted cell
            if self._in_quotes:
                return block
            self.rows += block.count(b"\n")
            return block.replace(b"\n", b"\r\n")
        parts = block.split(b'"')
        for i in range(1 if self._in_quotes else 0, len(parts), 2):
            self.rows += parts[i].count(b"\n")
            parts[i] = parts[i].replace(b"\n", b"\r\n")
        self._in_quotes ^= len(parts) % 2 == 0
        return b'"'.join(parts)


def copy_csv_body(table: str, user: User | None, counter: list[int]) -> Generator[bytes, None, None]:
    """The long table's rows as the CSV export's bytes, written by PostgreSQL's COPY: no Python
    object per cell. The SELECT makes each cell the text the Python writer would write
    (`selectors.long_table_queryset(for_copy=True)`, free text neutralised against formulas), and COPY
    quotes exactly the cells the writer quotes (those holding a comma, a quote, CR or LF), so
    the bytes are the writer's (tests/dataset/test_dataset_exports.py). PostgreSQL sends a row
    per message: they are passed on in blocks of `CSV_CHUNK_ROWS`."""
    queryset = selectors.long_table_queryset(table, user, as_csv_text=True, for_copy=True)
    sql, params = queryset.query.sql_with_params()
    rows = CrlfRows()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
    ):
        blocks: list[bytes] = []
        for block in copy:
            blocks.append(block)
            if len(blocks) >= CSV_CHUNK_ROWS:
                text = rows.convert(b"".join(blocks))
                blocks.clear()
                counter[0] = rows.rows
                yield text
        if blocks:
            text = rows.convert(b"".join(blocks))
            counter[0] = rows.rows
            yield text


def _csv_bytes(table: str, user: User | None, counter: list[int]) -> Generator[bytes, None, None]:
    header = [c.name for c in dataset_columns.TABLES[table]]
    if table != "patients" and connection.vendor == "postgresql":
        yield from (text.encode("utf-8") for text in csv_chunks(header, [], [], counter))
        yield from copy_csv_body(table, user, counter)
        return
    # closing(): a client that goes away mid-download leaves this generator at a yield;
    # the reader (a cursor) must end before the transaction does.
    with closing(table_chunks(table, user, as_csv_text=True)) as chunks:
        for text in csv_chunks(header, chunks, _text_indexes(table), counter):
            yield text.encode("utf-8")


class CsvExport:
    """The table as UTF-8 CSV chunks, logged when it starts and when its last row is out.

    Iterating it reads the rows inside its own transaction, so it works after the request's
    transaction has ended (StreamingHttpResponse iterates after the view returns). `rows`
    counts rows written.
    """

    def __init__(self, *, table: str, user: User | None, channel: str, destination: str = "") -> None:
        self.table, self.user, self.channel, self.destination = table, user, channel, destination
        self.rows = 0

    def __iter__(self) -> Iterator[bytes]:
        log = export_log_start(
            user=self.user, table=self.table, file_format="csv", channel=self.channel, destination=self.destination
        )
        counter = [0]
        completed = False
        try:
            # closing(): a client that goes away mid-download leaves this generator at a yield;
            # the reader (a COPY or a cursor) must end before the transaction does.
            with transaction.atomic(), closing(_csv_bytes(self.table, self.user, counter)) as chunks:
                yield from chunks
            completed = True
        finally:
            self.rows = counter[0]
            export_log_finish(log, rows=self.rows, completed=completed)


def frame_csv_text(frame: pd.DataFrame) -> str:
    """A small frame (a figure's table) as CSV text: missing values empty, text neutralised."""
    buffer = io.StringIO()
    writer = safe_csv.writer(buffer, lineterminator="\n")
    writer.writerow([str(column) for column in frame.columns])
    for chunk in _frame_chunks(frame, CSV_CHUNK_ROWS):
        writer.writerows(chunk)
    return buffer.getvalue()


def write_frame_csv(frame: pd.DataFrame, *, table: str, path: Path) -> int:
    """A table already in memory, written exactly as the streamed CSV export writes it."""
    counter = [0]
    header = [c.name for c in dataset_columns.TABLES[table]]
    with path.open("w", encoding="utf-8", newline="") as out:
        for text in csv_chunks(header, _frame_chunks(frame[header], CSV_CHUNK_ROWS), _text_indexes(table), counter):
            out.write(text)
    return counter[0]


def write_table_csv(*, table: str, user: User | None, path: Path, channel: str) -> int:
    export = CsvExport(table=table, user=user, channel=channel, destination=str(path))
    with path.open("wb") as out:
        for chunk in export:
            out.write(chunk)
    return export.rows


# ---- Parquet ----------------------------------------------------------------------------------
def arrow_schema(table: str) -> pa.Schema:
    # heavy: imported when used (docs/benchmarks.md, start-up)
    import pyarrow as pa

    types = _arrow_types()
    return pa.schema([(c.name, types[c.type]) for c in dataset_columns.TABLES[table]])


def _regroup(chunks: Iterable[list[Any]], size: int) -> Iterator[list[Any]]:
    """Gather fetch-sized chunks into Parquet row groups of about `size` rows."""
    group: list[Any] = []
    for chunk in chunks:
        group.extend(chunk)
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


def _arrow_batch(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    # heavy: imported when used (docs/benchmarks.md, start-up)
    import pyarrow as pa

    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    arrays = []
    for values, field in zip(columns, schema, strict=True):
        if pa.types.is_floating(field.type):
            values = [None if v is None else float(v) for v in values]
        arrays.append(pa.array(values, type=field.type, from_pandas=True))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def write_table_parquet(*, table: str, user: User | None, target: IO[bytes] | Path, channel: str) -> int:
    """Write the table as Parquet in row groups, so memory stays bounded by one group."""
    log = export_log_start(
        user=user,
        table=table,
        file_format="parquet",
        channel=channel,
        destination=str(target) if isinstance(target, Path) else "",
    )
    # heavy: imported when used (docs/benchmarks.md, start-up)
    import pyarrow.parquet as pq

    schema = arrow_schema(table)
    rows_written = 0
    completed = False
    try:
        with (
            transaction.atomic(),
            closing(table_chunks(table, user)) as chunks,
            pq.ParquetWriter(target, schema) as writer,
        ):
            for chunk in _regroup(chunks, PARQUET_ROW_GROUP):
                writer.write_batch(_arrow_batch(chunk, schema))
                rows_written += len(chunk)
            if rows_written == 0:
                writer.write_table(schema.empty_table())
        completed = True
    finally:
        export_log_finish(log, rows=rows_written, completed=completed)
    return rows_written


def parquet_tempfile(*, table: str, user: User | None, channel: str) -> IO[bytes]:
    """A rewound temporary file holding the Parquet export (Parquet's footer needs the whole file)."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    write_table_parquet(table=table, user=user, target=handle, channel=channel)
    handle.seek(0)
    return handle


# ---- data dictionary ------------------------------------------------------------------------
def dictionary_text(*, file_format: str, user: User | None, channel: str) -> str:
    """The data dictionary (generated from the spec) as CSV or Markdown, logged like any export."""
    log = export_log_start(user=user, table="dictionary", file_format=file_format, channel=channel)
    rows = dataset_columns.dictionary_rows()
    if file_format == "md":
        text = dataset_columns.dictionary_markdown()
    else:
        buffer = io.StringIO()
        writer = safe_csv.DictWriter(buffer, fieldnames=list(dataset_columns.DICTIONARY_FIELDS))
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    export_log_finish(log, rows=len(rows))
    return text


# ---- HTTP responses (the API and the web page send the same files) -----------------------------
def attachment(response: HttpResponseBase, table: str, file_format: str) -> HttpResponseBase:
    response["Content-Disposition"] = f'attachment; filename="{filename(table, file_format)}"'
    return response


def csv_response(*, table: str, user: User, channel: str) -> StreamingHttpResponse:
    """Streamed CSV: rows are read and written as the client downloads them."""
    stream = CsvExport(table=table, user=user, channel=channel)
    response = StreamingHttpResponse(iter(stream), content_type=content_type("csv"))
    attachment(response, table, "csv")
    return response


def parquet_response(*, table: str, user: User, channel: str) -> FileResponse:
    response = FileResponse(
        parquet_tempfile(table=table, user=user, channel=channel), content_type=content_type("parquet")
    )
    attachment(response, table, "parquet")
    return response


def dictionary_response(*, file_format: str, user: User, channel: str) -> HttpResponse:
    text = dictionary_text(file_format=file_format, user=user, channel=channel)
    response = HttpResponse(text, content_type=content_type(file_format))
    attachment(response, "dictionary", file_format)
    return response


def content_type(file_format: str) -> str:
    return {
        "csv": "text/csv; charset=utf-8",
        "parquet": "application/vnd.apache.parquet",
        "md": "text/markdown; charset=utf-8",
    }[file_format]


def filename(table: str, file_format: str) -> str:
    return f"il2ld_{table}_{timezone.localdate():%Y%m%d}.{file_format}"


def export_job_file_response(job: ExportJob) -> FileResponse:
    """A statistics-package export's zip, for the web page and the API alike; 404 while it is
    not ready, after it failed or once it expired."""
    if job.status != ExportJob.Status.SUCCEEDED or not job.file:
        raise Http404("This export has no file to download (not ready, failed or expired).")
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.file.name.rsplit("/", 1)[-1],
        content_type="application/zip",
    )
