"""Bulk inserts that still write the audit trail, and filters over thousands of keys.

simple-history records changes from post_save signals, which bulk_create skips; its
`bulk_create_with_history` fixes that, but Django's per-value insert preparation caps it at a
few thousand rows a second. On PostgreSQL this module streams rows and their "+" history rows
with COPY instead (primary keys reserved from the table's sequence first, so children can
point at parents). Elsewhere (the SQLite demo) it uses simple-history's helper. Both paths
write one history row per inserted row, with the given reason and user. It is the one bulk
insert: the demo cohort and the safety cases call it, and so does the bulk writing service
(`registry.services.records_bulk_insert`, the import's).

The COPY stream is formatted by the C `csv` module, one call per row rather than one Python
call per value, a thousand rows at a time as it is sent (PostgreSQL parses one block while the
next is formatted), and a history row reuses its record's formatted line (see
docs/benchmarks-archive.md, "Cohort import", and docs/benchmarks.md, "What remains").

Building the instances to insert is itself a cost at these volumes: `registry.instances` makes
them without `Model.__init__` (the importer's rows, the data queries the rules raise).
"""

from __future__ import annotations

import csv
import functools
import json
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Lookup
from django.db.models.fields.json import JSONField
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from registry.fields import EncryptedTextField

COPY_CHUNK = 20_000  # objects a COPY: the formatted lines of one chunk are held in memory
COPY_BLOCK = 1 << 18  # characters sent to the server a write
FORMAT_ROWS = 1_000  # rows formatted at a time, between writes


class AnyOf(Lookup):
    """`field__any_of=values`: `field = ANY(array)` on PostgreSQL, for thousands of values.

    Django's `__in` writes a placeholder per value; for a chunk of 10,000 ids, building and
    binding that SQL costs more than running it. Here the values travel as one array parameter
    (integers as one array literal, cheaper to adapt than a list), and PostgreSQL can use the
    column's index for `= ANY` (an `IN (SELECT unnest(...))` was planned as a semi-join, 16 %
    slower on the patient table's export). Elsewhere (the SQLite demo), a plain `IN` list.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            db_type = self.lhs.output_field.cast_db_type(connection)
            if all(isinstance(value, int) for value in values):
                array: Any = "{" + ",".join(str(int(value)) for value in values) + "}"
            else:
                array = values
            return f"{lhs} = ANY(%s::{db_type}[])", (*lhs_params, array)
        placeholders = ", ".join(["%s"] * len(values)) or "NULL"
        return f"{lhs} IN ({placeholders})", (*lhs_params, *values)


# Plain fields and foreign keys (which keep their own lookup registry) alike: `patient_id__any_of`.
models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)


def bulk_insert_with_history(
    objs: Sequence[models.Model], model: type[models.Model], *, reason: str, user_id: int | None = None
) -> None:
    """Insert unsaved objects with their audit entries; sets each object's primary key."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        user = get_user_model()(pk=user_id) if user_id is not None else None
        bulk_create_with_history(list(objs), model, batch_size=2000, default_user=user, default_change_reason=reason)
        return
    for start in range(0, len(objs), COPY_CHUNK):
        _copy_insert(objs[start : start + COPY_CHUNK], model, reason=reason, user_id=user_id)


def primary_keys_reserve(cursor: Any, model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys from the table's sequence (PostgreSQL), so that rows written by
    COPY can be pointed at before they exist. The sequence is looked up once, in a sub-select,
    and not for every key: 0.3 µs a key against 2.7 µs (docs/benchmarks.md)."""
    meta = model._meta
    cursor.execute(
        "SELECT nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass)) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """Values whose database form is not their str(): JSON, and encrypted identifiers."""
    if isinstance(field, JSONField):
        return json.dumps
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value
    return None


def _copy_insert(objs: Sequence[models.Model], model: type[models.Model], *, reason: str, user_id: int | None) -> None:
    plan = _copy_plan(model)
    now = timezone.now()
    with connection.cursor() as cursor:
        for obj, pk in zip(objs, primary_keys_reserve(cursor, model, len(objs)), strict=True):
            obj.pk = pk
        for attname in plan.auto_now:
            for obj in objs:
                setattr(obj, attname, now)
        lines: list[str] = []

        def record_lines() -> Iterator[str]:
            """Formatted a block at a time as COPY asks for them, so that PostgreSQL parses one
            block while the next is formatted; kept for the history rows."""
            for start in range(0, len(objs), FORMAT_ROWS):
                block = _csv_lines(plan.rows(objs[start : start + FORMAT_ROWS]))
                lines.extend(block)
                yield from block

        _copy(cursor, plan.table, plan.columns, plan.not_null, record_lines())
        # A history row is the record's row followed by the four history columns: reuse the
        # formatted line rather than formatting every value twice.
        suffix = _csv_lines([(now, reason, "+", user_id)])[0]
        _copy(
            cursor,
            plan.history_table,
            plan.history_columns,
            plan.history_not_null,
            (line[:-1] + "," + suffix for line in lines),
        )


class _CopyPlan:
    """Per model: columns in one order for the table and its history table, so a history row is
    the record's row plus (history_date, history_change_reason, history_type, history_user_id)."""

    def __init__(self, model: type[models.Model]) -> None:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = list(meta.concrete_fields)
        history = model.history.model  # type: ignore[attr-defined]
        by_attname = {f.attname: f for f in history._meta.concrete_fields}
        tracked = [f.attname for f in history.tracked_fields]
        if tracked != [f.attname for f in fields]:
            raise RuntimeError(f"{model.__name__}'s history does not track every field; COPY cannot mirror it.")
        extra_names = ("history_date", "history_change_reason", "history_type", "history_user_id")
        history_fields = [by_attname[f.attname] for f in fields] + [by_attname[name] for name in extra_names]
        if {f.attname for f in history._meta.concrete_fields} - {f.attname for f in history_fields} != {"history_id"}:
            raise RuntimeError(f"{model.__name__}'s history has columns COPY does not fill.")
        # In CSV COPY an empty unquoted value is NULL. None is written as an empty value, and so is
        # an empty string: FORCE_NOT_NULL reads it back as '' in the columns that cannot be NULL
        # (Django stores "no text" as ''). A nullable text column would be ambiguous: refuse.
        ambiguous = [
            f.name
            for f in fields
            if f.null
            and f.empty_strings_allowed
            and not f.is_relation
            and f.get_internal_type() in ("CharField", "TextField")
        ]
        if ambiguous:
            raise RuntimeError(f"{model.__name__}: nullable text {ambiguous}; COPY cannot tell '' from NULL.")
        self.table = meta.db_table
        self.history_table = history._meta.db_table
        self.columns = ", ".join(quote(f.column) for f in fields)
        self.history_columns = ", ".join(quote(f.column) for f in history_fields)
        self.not_null = ", ".join(quote(f.column) for f in fields if not f.null)
        self.history_not_null = ", ".join(quote(f.column) for f in history_fields if not f.null)
        self.auto_now = [
            f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self.getter = operator.attrgetter(*[f.attname for f in fields])
        self.converters = [(i, convert) for i, f in enumerate(fields) if (convert := _converter(f))]

    def rows(self, objs: Sequence[models.Model]) -> list[tuple[Any, ...]]:
        """Each object's values in the plan's column order, in their database form."""
        getter = self.getter
        if not self.converters:
            return [getter(obj) for obj in objs]
        rows = []
        for obj in objs:
            values = list(getter(obj))
            for index, convert in self.converters:
                if values[index] is not None:
                    values[index] = convert(values[index])
            rows.append(tuple(values))
        return rows


@functools.cache
def _copy_plan(model: type[models.Model]) -> _CopyPlan:
    return _CopyPlan(model)


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str) -> None:
        self.lines.append(line)


def _csv_lines(rows: Any) -> list[str]:
    """Each row as one CSV line (C csv module), ending in a newline."""
    target = _Lines()
    csv.writer(target, lineterminator="\n").writerows(rows)
    return target.lines


def _copy(cursor: Any, table: str, columns: str, not_null: str, lines: Any) -> None:
    options = f"FORMAT csv, FORCE_NOT_NULL ({not_null})" if not_null else "FORMAT csv"
    sql = f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN WITH ({options})"
    block: list[str] = []
    size = 0
    with cursor.cursor.copy(sql) as copy:
        for line in lines:
            block.append(line)
            size += len(line)
            if size >= COPY_BLOCK:
                copy.write("".join(block))
                block, size = [], 0
        if block:
            copy.write("".join(block))
