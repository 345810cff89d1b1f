"""Bulk inserts that still write the audit trail, and filters over thousands of keys.

simple-history records changes from post_save signals, which bulk_create skips; its
`bulk_create_with_history` fixes that, but Django's per-value insert preparation caps it at a
few thousand rows a second. On PostgreSQL this module streams rows and their "+" history rows
with COPY instead (primary keys reserved from the table's sequence first, so children can
point at parents). Elsewhere (the SQLite demo) it uses simple-history's helper. Both paths
write one history row per inserted row, with the given reason and user.

Building the instances to insert is itself a cost at these volumes: `registry.instances` makes
them without `Model.__init__` (the importer's rows, the data queries the rules raise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Lookup
from django.db.models.fields.json import JSONField
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from registry.fields import EncryptedTextField

COPY_CHUNK = 20_000


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
        _copy_chunk(objs[start : start + COPY_CHUNK], model, reason, user_id)


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


def _preparer(field: models.Field) -> Callable[[Any], Any]:
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value
    if isinstance(field, JSONField):
        return lambda value: None if value is None else json.dumps(value)
    return lambda value: value


def _constant(value: Any) -> Callable[[list[Any]], Any]:
    return lambda row: value


def _copy_chunk(objs: Sequence[models.Model], model: type[models.Model], reason: str, user_id: int | None) -> None:
    meta = model._meta
    table = meta.db_table
    now = timezone.now()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for obj, pk in zip(objs, primary_keys_reserve(cursor, model, len(objs)), strict=True):
            obj.pk = pk
        fields = list(meta.concrete_fields)
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                for obj in objs:
                    setattr(obj, field.attname, now)
        preparers = [(field.attname, _preparer(field)) for field in fields]
        rows = [[prepare(getattr(obj, attname)) for attname, prepare in preparers] for obj in objs]
        columns = ", ".join(quote(field.column) for field in fields)
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

        history = model.history.model  # type: ignore[attr-defined]
        position = {attname: index for index, (attname, _) in enumerate(preparers)}
        extra = {"history_date": now, "history_change_reason": reason, "history_type": "+", "history_user_id": user_id}
        history_fields = [f for f in history._meta.concrete_fields if f.attname != "history_id"]
        pickers: list[Callable[[list[Any]], Any]] = []
        for field in history_fields:
            if field.attname in position:
                pickers.append(itemgetter(position[field.attname]))
            else:
                pickers.append(_constant(extra[field.attname]))
        columns = ", ".join(quote(field.column) for field in history_fields)
        with cursor.cursor.copy(f"COPY {quote(history._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([pick(row) for pick in pickers])
