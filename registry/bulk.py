"""Bulk inserts that still write the audit trail, and filters over thousands of keys.

simple-history records changes from post_save signals, which bulk_create skips; its
`bulk_create_with_history` fixes that, but Django's per-value insert preparation caps it at a
few thousand rows a second. On PostgreSQL this module streams rows and their "+" history rows
with COPY instead (primary keys reserved from the table's sequence first, so children can
point at parents). Elsewhere (the SQLite demo) it uses simple-history's helper. Both paths
write one history row per inserted row, with the given reason and user.

Building the instances to insert is itself a cost at these volumes: `new_instance` makes an
unsaved one without `Model.__init__` (the importer's rows, the data queries the rules raise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Lookup, signals
from django.db.models.base import ModelState
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
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
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


M = TypeVar("M", bound=models.Model)


def new_instance(model: type[M], values: dict[str, Any], related: dict[str, models.Model | None] | None = None) -> M:
    """An unsaved instance built the way Django rebuilds one when unpickling (`__new__` and its
    `__dict__`), skipping `Model.__init__`'s per-field keyword handling, which costs more than
    validating the row. Defaults come from the fields, as in `__init__`; `values` are keyed by
    attname (`patient_id`), and `related` fills the relation cache so reading `obj.patient` does
    not query. Models with init signal receivers are built with `__init__`, which runs them.
    """
    template = _template_for(model)
    if template is _USE_INIT:
        obj = model(**values)
    else:
        constants, callables = template
        obj = model.__new__(model)
        state = obj.__dict__
        state.update(constants)
        for attname, default in callables:
            state[attname] = default()
        state.update(values)
        obj._state = ModelState()
    if related:
        obj._state.fields_cache.update(related)
    return obj


def loaded_instance(model: type[models.Model], values: dict[str, Any], **related: models.Model | None) -> Any:
    """A record as read from the database with only `values` loaded (the rest deferred, as with
    `.only()`): read-only context for the rules, built without `Model.__init__`."""
    if _template_for(model) is _USE_INIT:
        names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
        obj = model.from_db("default", names, [values[name] for name in names])
    else:
        obj = model.__new__(model)
        obj.__dict__.update(values)
        obj._state = ModelState()
        obj._state.adding, obj._state.db = False, "default"
    if related:
        obj._state.fields_cache.update(related)
    return obj


_USE_INIT = object()
_templates: dict[type[models.Model], Any] = {}


def _template_for(model: type[models.Model]) -> Any:
    template = _templates.get(model)
    if template is None:
        template = _templates[model] = _template(model)
    return template


def _template(model: type[models.Model]) -> Any:
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return _USE_INIT
    constants: dict[str, Any] = {}
    callables: list[tuple[str, Any]] = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            callables.append((field.attname, field.default))
        else:
            constants[field.attname] = field.get_default()
    return constants, callables
