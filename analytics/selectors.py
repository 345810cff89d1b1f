"""Reads for the analysis-ready dataset: database rows into tuples and pandas frames.

Scope always comes from `registry.selectors` (the one visibility rule); `user=None` means a
system export by a management command, which sees every patient. Patients whose latest
consent refuses sharing pseudonymised data with regulators and researchers are left out of
every exported table.

Rows are read from `values_list(...)` querysets in chunks of plain tuples (no model
instances), streamed on PostgreSQL (see `_fetch`), so a long table never sits in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection, models
from django.db.models import Case, Exists, F, Max, OuterRef, Q, TextField, Value, When
from django.db.models.functions import Cast, Collate, NullIf

from access_programme.models import Dispensing, TreatmentCycle
from analytics import dataset_columns
from analytics.models import ExportJob
from analytics.query_columns import COPY_NULL as _COPY_NULL
from analytics.query_columns import column_kinds as _column_kinds
from analytics.query_columns import typed_frame
from registry.crypto import decrypt_many
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    Patient,
    PatientIdentity,
    User,
)
from registry.safe_csv import neutralised_expression
from registry.selectors import patients_visible_to, patients_withdrawn_from_data_use, records_visible_to

if TYPE_CHECKING:
    import pandas as pd

#: Rows per chunk read from the database: bounds the memory an export holds at once.
CHUNK_SIZE = 2_000
#: Rows in lists; a generator, so a consumer that stops early can close() it and end the query.
RowChunks = Generator[list[tuple[Any, ...]], None, None]


def _visible_patients(user: User | None) -> models.QuerySet[Patient]:
    return Patient.objects.all() if user is None else patients_visible_to(user)


def _visible_records(user: User | None, model: type[models.Model]) -> models.QuerySet[Any]:
    return model._default_manager.all() if user is None else records_visible_to(user, model)


class PatientIdRow(TypedDict):
    patient_id: int


def patients_refusing_sharing() -> models.QuerySet[Consent, PatientIdRow]:
    """Ids of patients whose most recent consent refuses sharing pseudonymised data, or who
    withdrew the use of their data (`registry.selectors.patients_withdrawn_from_data_use`).

    Written as "a refusing consent with no later consent" rather than "the latest consent of
    every patient", so PostgreSQL scans the few refusals instead of sorting each patient's
    consents (100,000 correlated subqueries at benchmark scale).
    """
    later = Consent.objects.filter(patient=OuterRef("patient")).filter(
        Q(consent_date__gt=OuterRef("consent_date")) | Q(consent_date=OuterRef("consent_date"), pk__gt=OuterRef("pk"))
    )
    refusing = Consent.objects.filter(consents_to_data_sharing=False).exclude(Exists(later)).values("patient_id")
    withdrawn = patients_withdrawn_from_data_use()
    return (
        Consent.objects.filter(Q(patient_id__in=refusing) | Q(patient_id__in=withdrawn)).values("patient_id").distinct()
    )


def export_patients(user: User | None) -> models.QuerySet[Patient]:
    """Patients whose data the user may export."""
    return _visible_patients(user).exclude(pk__in=patients_refusing_sharing())


def export_records(user: User | None, model: type[models.Model]) -> models.QuerySet[Any]:
    """Patient-owned records the user may export (same scope as `export_patients`)."""
    return _visible_records(user, model).exclude(patient_id__in=patients_refusing_sharing())


# ---- long tables ------------------------------------------------------------------------
@dataclass(frozen=True)
class LongTable:
    """How one long table is read: its model, the value expressions (in column order) and a stable order."""

    model: type[models.Model]
    fields: tuple[str, ...]
    order_by: tuple[str, ...]


_ITEMS = tuple(name for name, _ in dataset_columns._ITEMS)

LONG_TABLES: dict[str, LongTable] = {
    "alsfrs_r": LongTable(
        AlsfrsrAssessment,
        (
            "patient__study_id",
            "assessment_date",
            *_ITEMS,
            *AlsfrsrAssessment.DERIVED_FIELDS,
        ),
        ("patient_id", "assessment_date"),
    ),
    "biomarkers": LongTable(
        BiomarkerResult,
        ("patient__study_id", *BiomarkerResult.RECORDED_FIELDS),
        ("patient_id", "sample_date", "analyte"),
    ),
    "cycles": LongTable(
        TreatmentCycle,
        (
            "patient__study_id",
            "cycle_number",
            "start_date",
            "planned_dose_miu",
            "days_administered",
            "total_dose_miu",
            "interrupted",
        ),
        ("patient_id", "cycle_number"),
    ),
    "dispensing": LongTable(
        Dispensing,
        (
            "patient__study_id",
            "cycle__cycle_number",
            "dispensed_on",
            "batch__product__code",
            "batch__batch_number",
            "quantity",
            "quantity_unit",
            "dose_miu_per_unit",
            "cold_chain_confirmed",
            "cold_chain_temperature_c",
        ),
        ("patient_id", "dispensed_on", "pk"),
    ),
    "adverse_events": LongTable(
        AdverseEvent,
        (
            "patient__study_id",
            "term",
            "meddra_llt_code",
            "onset_date",
            "resolution_date",
            "ctcae_grade",
            "serious",
            "relatedness",
            "action_taken",
            "outcome",
        ),
        ("patient_id", "onset_date", "pk"),
    ),
    "events": LongTable(
        ClinicalEvent,
        ("patient__study_id", "event_type", "event_date"),
        ("patient_id", "event_date", "event_type"),
    ),
}

for _name, _table in LONG_TABLES.items():  # the spec and the query must list the same columns
    assert len(_table.fields) == len(dataset_columns.LONG_TABLE_COLUMNS[_name]), _name


def _as_text(field: str, column: dataset_columns.Column, *, for_copy: bool = False) -> Any:
    """The column as the text the CSV writer would make of its Python value (str(value)); with
    `for_copy`, as it writes it, for COPY to write the file (analytics.exports): free text
    neutralised (registry.safe_csv's rule), empty text as NULL (an empty cell for COPY too), and
    dates and numbers as stored, which COPY writes as `::text` would. A `formula_safe` column is
    never empty and never needs neutralising: it goes out as stored."""
    if column.type == "boolean":
        return Case(
            When(**{field: True}, then=Value("True")),
            When(**{field: False}, then=Value("False")),
            output_field=TextField(),
        )
    if column.type in {"string", "category"}:
        if not for_copy or column.formula_safe:
            return field
        text = neutralised_expression(field) if column.type == "string" else F(field)
        return NullIf(text, Value(""), output_field=TextField())
    if for_copy:
        # COPY writes a date, integer or decimal through its type's output function, the very
        # text `::text` makes: the cast would only cost the server a second conversion
        # (about a third of the export's server time, docs/benchmarks.md).
        return field
    return Cast(field, output_field=TextField())  # ISO dates; integers and decimals as stored


def long_table_queryset(
    table: str, user: User | None, *, as_csv_text: bool = False, for_copy: bool = False
) -> models.QuerySet[Any]:
    """The rows of a long table as a values_list queryset, in a stable order.

    With `as_csv_text` on PostgreSQL every column comes back as the text the CSV writer would
    make of its value (ISO dates, decimals as stored, True/False), so no date, Decimal or int
    object is built per cell (tested equal to the writer's own formatting); `for_copy`: see `_as_text`."""
    spec = LONG_TABLES[table]
    fields: list[Any] = list(spec.fields)
    if as_csv_text and connection.vendor == "postgresql":
        columns = dataset_columns.LONG_TABLE_COLUMNS[table]
        fields = [_as_text(f, c, for_copy=for_copy) for f, c in zip(spec.fields, columns, strict=True)]
    return export_records(user, spec.model).order_by(*spec.order_by).values_list(*fields)


def long_table_chunks(
    table: str, user: User | None, *, as_csv_text: bool = False, chunk_size: int = CHUNK_SIZE
) -> RowChunks:
    """The long table's rows in lists of at most `chunk_size` tuples (see `_fetch`)."""
    return _fetch(long_table_queryset(table, user, as_csv_text=as_csv_text), chunk_size)


def long_table_frame(table: str, user: User | None) -> pd.DataFrame:
    columns = [c.name for c in dataset_columns.LONG_TABLE_COLUMNS[table]]
    return _frame(long_table_queryset(table, user), columns)


# ---- frames for the patient table ---------------------------------------------------------
_PATIENT_FIELDS = {
    "pk": "pk",
    "patient_id": "study_id",
    "site_code": "site__code",
    "sex": "sex",
    "year_of_birth": "year_of_birth",
    "route": "enrolment__route__code",
    "enrolment_date": "enrolment__enrolment_date",
    "first_dose_date": "enrolment__first_dose_date",
    "meets_mirocals_criteria": "enrolment__meets_mirocals_criteria",
    "symptom_onset_date": "diagnosis__symptom_onset_date",
    "diagnosis_date": "diagnosis__diagnosis_date",
    "onset_region": "diagnosis__onset_region",
    "el_escorial": "diagnosis__el_escorial",
    "riluzole_start_date": "diagnosis__riluzole_start_date",
    "svc_percent": "diagnosis__svc_percent",
    "fvc_percent": "diagnosis__fvc_percent",
    "alsfrsr_total_at_diagnosis": "diagnosis__alsfrsr_total_at_diagnosis",
    "c9orf72": "diagnosis__c9orf72",
    "ftd": "diagnosis__ftd",
}


def _fetch(queryset: models.QuerySet[Any], chunk_size: int = CHUNK_SIZE) -> RowChunks:
    """A values_list queryset's rows in lists of at most `chunk_size`, with constant memory.

    On PostgreSQL the query is *streamed* (psycopg `Cursor.stream`, libpq's chunked-rows mode):
    the server sends rows while Python formats the previous ones, TCP back-pressure bounds
    memory, and the server never waits for a FETCH as with a server-side cursor (half the
    export's time at a million rows, docs/benchmarks-archive.md). PostgreSQL needs no Django value
    converters for these columns; other databases do, so they keep the queryset iterator."""
    if connection.vendor != "postgresql" or not _can_stream_chunks():
        rows = queryset.iterator(chunk_size=chunk_size)
        while chunk := list(islice(rows, chunk_size)):
            yield chunk
        return
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor, closing(cursor.cursor.stream(sql, params, size=chunk_size)) as rows:
        # closing(): a consumer that stops early (a client gone mid-download) cancels the query.
        while chunk := list(islice(rows, chunk_size)):
            yield chunk


def _can_stream_chunks() -> bool:
    import psycopg

    return bool(psycopg.capabilities.has_stream_chunked())


def _frame(queryset: models.QuerySet[Any], columns: list[str]) -> pd.DataFrame:
    """A values_list queryset as a frame with dates as datetime64 and decimals as float64.

    On PostgreSQL the rows arrive through `COPY (SELECT …) TO STDOUT` and `pandas.read_csv`
    (C parsers on both sides, no Python object per cell: at 100,000 patients this is the
    difference between the nightly run's load taking 30 s and taking about COPY's own time,
    docs/benchmarks-archive.md). Elsewhere the rows come chunk by chunk from the queryset iterator.
    Both give the same frame (tests/analytics/test_frames.py).
    """
    if connection.vendor == "postgresql":
        return _frame_by_copy(queryset, columns)
    return _frame_by_rows(queryset, columns)


def _frame_by_rows(queryset: models.QuerySet[Any], columns: list[str]) -> pd.DataFrame:
    import pandas as pd  # heavy: imported when used (docs/benchmarks.md, start-up)

    parts = [_typed(pd.DataFrame.from_records(chunk, columns=columns)) for chunk in _fetch(queryset, 50_000)]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd  # heavy: imported when used (docs/benchmarks.md, start-up)

    for column in frame.select_dtypes(include="object").columns:
        sample = frame[column].dropna()
        if sample.empty:
            continue
        first = sample.iloc[0]
        if isinstance(first, dt.date):
            frame[column] = pd.to_datetime(frame[column])
        elif isinstance(first, Decimal):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def _frame_by_copy(queryset: models.QuerySet[Any], columns: list[str]) -> pd.DataFrame:
    """The rows by `COPY (SELECT …) TO STDOUT (FORMAT csv)`, parsed by `typed_frame`."""
    kinds = _column_kinds(queryset)
    if len(kinds) != len(columns):
        raise ValueError(f"{len(columns)} column names for a query of {len(kinds)} columns")
    sql, params = queryset.query.sql_with_params()
    buffer = io.BytesIO()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, NULL '{_COPY_NULL}')", params) as copy,
    ):
        for block in copy:
            buffer.write(block)
    return typed_frame(buffer, columns, kinds)


#: Patients per chunk when the patient table is read a chunk at a time (`dataset_frame_chunks`):
#: bounds the input frames an export holds at once (about 10 ALSFRS-R visits per patient).
PATIENT_CHUNK_SIZE = 10_000


def _patient_id_key() -> Any:
    """study_id compared as Python compares strings (code point by code point), the order
    `build_patient_dataset` sorts its rows in. PostgreSQL sorts by the database's collation,
    which may not (en-US puts "gb-1" before "GB-2", code points after), hence COLLATE "C";
    SQLite's default BINARY collation already compares UTF-8 bytes, i.e. code points."""
    if connection.vendor == "postgresql":
        return Collate("study_id", "C")
    return F("study_id")


def _records(user: User | None, model: type[models.Model], pks: list[int] | None, *order: str) -> models.QuerySet[Any]:
    """A model's records for the patient frames: every exportable patient's (`pks` None), or those
    of a chunk of patients already read through `export_patients` (so the refusal-of-sharing
    subquery is not run again), ordered by `order` (a unique key) so that per-patient sums add
    in the same order whatever the query plan."""
    if pks is None:
        return export_records(user, model).order_by()
    return _visible_records(user, model).order_by(*order).filter(patient_id__any_of=pks)


def _max_dates(user: User | None, model: type[models.Model], field: str, pks: list[int] | None) -> pd.DataFrame:
    rows = (
        _records(user, model, pks)
        .values("patient_id")
        .annotate(date=Max(field))
        .values_list("patient_id", "date")
        .order_by()
    )
    return _frame(rows, ["pk", "date"])


def _dates_of_birth(user: User | None, pks: list[int] | None) -> dict[int, dt.date]:
    """Patient pk → date of birth, decrypted here only to derive whole-year ages: the dataset
    never holds the date itself (ACC-03, docs/dataset.md)."""
    rows = _records(user, PatientIdentity, pks).values_list("patient_id", "date_of_birth")
    if connection.vendor != "postgresql":
        return {pk: born for pk, born in rows.iterator(chunk_size=CHUNK_SIZE) if born}
    # The ciphertexts by COPY, decrypted in one loop: the ORM's per-row converters cost a
    # quarter of the decryption again (EncryptedDateField.from_db_value does the same per row).
    tokens = _frame(rows, ["pk", "token"])
    tokens = tokens[tokens["token"].notna() & (tokens["token"] != "")]
    texts = decrypt_many(tokens["token"].tolist())
    return {int(pk): dt.date.fromisoformat(text) for pk, text in zip(tokens["pk"], texts, strict=True)}


def dataset_frames(user: User | None, *, after: str | None = None, limit: int | None = None) -> dict[str, pd.DataFrame]:
    """The input frames of `analytics.dataset.build_patient_dataset`, scoped to the user.

    With `limit`, one chunk of patients: the first `limit` in patient_id order whose patient_id
    comes after `after` (keyset pagination; None for the first chunk), and only their records.
    Every derivation is per patient and the table is sorted by patient_id, so the tables built
    from consecutive chunks, concatenated, are the table built from the whole cohort.
    """
    import pandas as pd  # heavy: imported when used (docs/benchmarks.md, start-up)

    patient_rows = export_patients(user)
    if limit is None:
        patient_rows = patient_rows.order_by("pk")
    else:
        patient_rows = patient_rows.alias(key=_patient_id_key()).order_by("key")
        if after is not None:
            patient_rows = patient_rows.filter(key__gt=after)
    selected = patient_rows.values_list(*_PATIENT_FIELDS.values())
    patients = _frame(selected if limit is None else selected[:limit], list(_PATIENT_FIELDS))
    for column in ("svc_percent", "fvc_percent"):
        patients[column] = pd.to_numeric(patients[column], errors="coerce").astype("float64")
    pks = None if limit is None else [int(pk) for pk in patients["pk"]]
    patients["date_of_birth"] = patients["pk"].map(_dates_of_birth(user, pks)).astype("datetime64[ns]")
    alsfrs = _frame(
        _records(user, AlsfrsrAssessment, pks, "patient_id", "assessment_date").values_list(
            "patient_id", "assessment_date", "total"
        ),
        ["pk", "date", "total"],
    )
    pnfh = _frame(
        _records(user, BiomarkerResult, pks, "patient_id", "sample_date")
        .filter(analyte="csf_pnfh")
        .values_list("patient_id", "sample_date", "value", "assay"),
        ["pk", "date", "value", "assay"],
    )
    pnfh["value"] = pd.to_numeric(pnfh["value"], errors="coerce").astype("float64")
    events = _frame(
        _records(user, ClinicalEvent, pks).values_list("patient_id", "event_type", "event_date"),
        ["pk", "event_type", "date"],
    )
    cycles = _frame(
        _records(user, TreatmentCycle, pks, "patient_id", "cycle_number").values_list(
            "patient_id", "start_date", "days_administered", "total_dose_miu"
        ),
        ["pk", "start_date", "days_administered", "total_dose_miu"],
    )
    cycles["total_dose_miu"] = pd.to_numeric(cycles["total_dose_miu"], errors="coerce").astype("float64")
    last_dose = pd.DataFrame(
        {
            "pk": cycles["pk"],
            "date": pd.to_datetime(cycles["start_date"])
            + pd.to_timedelta((cycles["days_administered"].astype("int64") - 1).clip(lower=0), unit="D"),
        }
    )
    sources = [
        alsfrs[["pk", "date"]],
        last_dose[cycles["days_administered"].astype("int64") > 0],
        _max_dates(user, BiomarkerResult, "sample_date", pks),
        _max_dates(user, Dispensing, "dispensed_on", pks),
        _max_dates(user, AdverseEvent, "onset_date", pks),
        _max_dates(user, AdverseEvent, "resolution_date", pks),
    ]
    non_empty = [frame.dropna() for frame in sources if not frame.dropna().empty]
    alive_dates = pd.concat(non_empty, ignore_index=True) if non_empty else pd.DataFrame(columns=["pk", "date"])
    return {
        "patients": patients,
        "alsfrs": alsfrs,
        "pnfh": pnfh,
        "events": events,
        "cycles": cycles,
        "alive_dates": alive_dates,
    }


def dataset_frame_chunks(user: User | None, size: int | None = None) -> Iterator[dict[str, pd.DataFrame]]:
    """The input frames `size` patients at a time (default `PATIENT_CHUNK_SIZE`), in patient_id
    order, so reading and deriving the patient table holds one chunk, however large the cohort."""
    size = size or PATIENT_CHUNK_SIZE
    after = None
    while True:
        frames = dataset_frames(user, after=after, limit=size)
        count = len(frames["patients"])
        if count:
            yield frames
        if count < size:
            return
        after = frames["patients"]["patient_id"].iloc[-1]


def patient_dataset(user: User | None) -> pd.DataFrame:
    """The analysis-ready patient table for what the user may see."""
    from analytics.dataset import build_patient_dataset  # heavy: imported when used (docs/benchmarks.md, start-up)

    return build_patient_dataset(**dataset_frames(user))


# ---- statistics-package export jobs ---------------------------------------------------------
def export_jobs_of(user: User) -> models.QuerySet[ExportJob]:
    """The user's own export jobs, newest first (nobody sees another person's exports)."""
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-id")


def export_job_of(user: User, job_id: int) -> ExportJob | None:
    return export_jobs_of(user).filter(pk=job_id).first()
