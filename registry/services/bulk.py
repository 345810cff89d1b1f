"""The registry's bulk writing service: records written in sets, each with its audit row.

The one way an adapter writes many records at once (the cohort import; `tests/architecture`
proves the adapters write no model directly). The caller has authorised the write and run each
record's rules (the model's validators and the pure rule functions); this service writes the
records and one history row per inserted or updated record, with the reason and the actor.

Updates go through simple-history's `bulk_update_with_history` ("~" history rows). Inserts
go through simple-history's `bulk_create_with_history` on SQLite (the demo) and, on
PostgreSQL, through COPY: the rows and their "+" history rows, as `registry.bulk` does for
the demo cohort, with primary keys reserved from the table's sequence first so children can
point at their parents. Unlike `registry.bulk`, the COPY stream is formatted by the C `csv`
module, one call per row rather than one Python call per value, and a history row reuses its
record's formatted line (see docs/benchmarks-archive.md, "Cohort import"). Every history row carries the reason
(the import's is "import <file name>") and the actor (None from the command line).
"""

from __future__ import annotations

import csv
import functools
import json
import operator
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.fields.json import JSONField
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from registry.bulk import primary_keys_reserve
from registry.fields import EncryptedTextField
from registry.models import User

COPY_BLOCK = 1 << 20


def records_bulk_insert(
    *, actor: User | None, records: Sequence[models.Model], model: type[models.Model], reason: str
) -> None:
    """Insert unsaved records with their history; sets their primary keys."""
    if not records:
        return
    if connection.vendor == "postgresql":
        _copy_insert(records, model, reason=reason, user_id=actor.pk if actor else None)
    else:
        bulk_create_with_history(list(records), model, default_user=actor, default_change_reason=reason)


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
        getter = plan.getter
        if plan.converters:
            rows = []
            for obj in objs:
                values = list(getter(obj))
                for index, convert in plan.converters:
                    if values[index] is not None:
                        values[index] = convert(values[index])
                rows.append(tuple(values))
        else:
            rows = [getter(obj) for obj in objs]
        lines = _csv_lines(rows)
        _copy(cursor, plan.table, plan.columns, plan.not_null, lines)
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
            raise RuntimeError(f"{model.__name__}'s history has columns the import does not fill.")
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


def records_bulk_update(
    *,
    actor: User | None,
    records: Sequence[models.Model],
    model: type[models.Model],
    fields: Sequence[str],
    reason: str,
) -> None:
    """Update changed records (version + 1, as `audited_save` does) with a "~" history row each."""
    if not records:
        return
    now = timezone.now()
    names = list(dict.fromkeys([*fields, "version", "updated_at"]))
    for obj in records:
        obj.version += 1  # type: ignore[attr-defined]
        obj.updated_at = now  # type: ignore[attr-defined]
    bulk_update_with_history(
        list(records), model, names, batch_size=1000, default_user=actor, default_change_reason=reason
    )


def record_versions_lock(model: type[models.Model], pks: Sequence[int]) -> dict[int, int]:
    """Lock rows about to be updated and return their current versions (optimistic check)."""
    if not pks:
        return {}
    return dict(model._default_manager.select_for_update().filter(pk__in=pks).values_list("pk", "version"))
