"""Validating imported rows with the models' own rules, in memory.

A form runs `full_clean()`: the field validators (choices, ranges, lengths, decimal places),
then the model's `clean()`, then uniqueness queries. The importer runs the same two rule
sets, for every row, without a query per row:

* **Field validators.** Every value read from the file is checked with its model field's own
  `clean()` (the same call `Model.clean_fields()` makes). Validators are pure functions of the
  value, so results are memoised per (field, value): the millionth "3" in an ALSFRS-R item
  column costs a dictionary lookup. Foreign keys are not re-checked (Django would query the
  database to prove the parent exists; the importer has just looked the parent up itself), and
  neither are derived columns, which the registry computes.
* **The model's `clean()`**, called as is. The only query a `clean()` would make is the
  patient's date of death (`Patient.death_date`, "nothing after death"); the importer answers
  it from the death it has already loaded for the patient, or accepted earlier in the import
  (`bind_known_death`). Parent records (`patient`, `patient.diagnosis`, `route`, `batch`) are
  attached to the instance, so reading them does not query either.
* **Rules that read other rows** (one death, records after a death, 28-day cycles, stock) are
  functions over plain facts next to their models (`registry.models.death_errors`,
  `access_programme.models.cycle_errors` and `dispensing_errors`): the model's `clean()`
  queries the facts, the loaders give them from the import's view of the patient. Uniqueness
  is by natural key in the importer; see docs/interchange.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from registry.instances import loaded_instance, new_instance
from registry.meta import concrete_field
from registry.models import NON_FIELD, Patient

__all__ = [
    "bind_known_death",
    "bind_known_withdrawal",
    "describe",
    "field_errors",
    "loaded_instance",
    "model_fields",
    "new_instance",
    "set_cached_relation",
    "validate",
]

_MEMO_LIMIT = 50_000  # entries; high-cardinality values (lab results) would otherwise fill it
_memo: dict[tuple[int, Any], tuple[str, ...]] = {}
_NOTHING: tuple[str, ...] = ()


def field_errors(field: models.Field, value: Any, instance: models.Model) -> tuple[str, ...]:
    """Messages from the model field's own validation of `value` (memoised: validators are pure)."""
    key = (id(field), value)
    try:
        cached, hashable = _memo.get(key), True
    except TypeError:  # unhashable (a list for a JSON field): validate directly
        cached, hashable = None, False
    if cached is not None:
        return cached
    if field.blank and value in field.empty_values:
        result = _NOTHING
    else:
        try:
            field.clean(value, instance)
            result = _NOTHING
        except ValidationError as error:
            result = tuple(error.messages)
    if hashable:
        if len(_memo) > _MEMO_LIMIT:
            _memo.clear()
        _memo[key] = result
    return result


FieldSpec = tuple[models.Field, str, int]


def model_fields(model: type[models.Model], names: Iterable[str]) -> tuple[FieldSpec, ...]:
    """(field, attname, id) for the fields named, looked up once per loader rather than per row."""
    fields = [concrete_field(model, name) for name in names]
    return tuple((field, field.attname, id(field)) for field in fields)


def validate(instance: models.Model, fields: Iterable[str] | Sequence[FieldSpec], *, clean: bool = True) -> None:
    """Field validators for `fields` (the values that came from the file), then `clean()`.

    Raises ValidationError with a dict of messages, like `full_clean()`: field errors and
    `clean()` errors together, so a data manager sees every problem with a row at once.
    """
    errors: dict[str, list[str]] = {}
    values = instance.__dict__
    memo = _memo
    for spec in fields:
        if isinstance(spec, str):
            spec = model_fields(type(instance), [spec])[0]
        field, attname, field_id = spec
        value = values[attname]
        try:
            messages = memo.get((field_id, value))
        except TypeError:
            messages = None
        if messages is None:
            messages = field_errors(field, value, instance)
        if messages:
            errors[field.name] = list(messages)
    if clean:
        try:
            instance.clean()
        except ValidationError as error:
            for name, found in _as_dict(error).items():
                errors.setdefault(name, []).extend(m for m in found if m not in errors.get(name, []))
    if errors:
        raise ValidationError(errors)


def _as_dict(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {NON_FIELD: list(error.messages)}


def describe(error: ValidationError, columns: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """A message a data manager can act on, naming the file's columns, and the columns named."""
    parts: list[str] = []
    named: list[str] = []
    for name, messages in _as_dict(error).items():
        column = (columns or {}).get(name, name)
        text = " ".join(messages)
        if name == NON_FIELD or not column:
            parts.append(text)
        else:
            named.append(column)
            parts.append(f"{column}: {text}")
    return " ".join(parts), named


def bind_known_death(patient: Patient, death: tuple[dt.date, int | None] | None) -> None:
    """Answer `patient.death_date()` from what the import already knows, without a query.

    `death` is (date, primary key or None for a death accepted in this import but not yet
    written). The model method's contract is kept: a death excluded by the caller (an edit of
    that very event) does not count.
    """

    def death_date(exclude: models.Model | None = None) -> dt.date | None:
        if death is None:
            return None
        date, pk = death
        if exclude is not None and exclude.pk is not None and exclude.pk == pk:
            return None
        return date

    patient.death_date = death_date  # type: ignore[method-assign]  # this patient's answer, bound per import


def bind_known_withdrawal(
    patient: Patient, withdrawn_on: dt.date | None, treatment_withdrawn_on: dt.date | None
) -> None:
    """Answer `patient.collection_withdrawn_on()` and `treatment_withdrawn_on()` from the chunk's
    queries, not one per row (an import never records a withdrawal, so the registry's answers
    hold for the whole file)."""
    patient.collection_withdrawn_on = lambda: withdrawn_on  # type: ignore[method-assign]  # bound per import
    patient.treatment_withdrawn_on = lambda: treatment_withdrawn_on  # type: ignore[method-assign]


def set_cached_relation(instance: models.Model, name: str, value: models.Model | None) -> None:
    """Attach a related object (forward or reverse one-to-one) so reading it does not query."""
    instance._state.fields_cache[name] = value
