"""Typed access to model metadata.

`Model._meta.get_field` answers with a field, a reverse relation or a generic foreign key; the
registry only ever asks for concrete fields by name, so `concrete_field` says so (and fails
loudly if a name ever points at a relation instead).
"""

from __future__ import annotations

from typing import Any

from django.db import models


def concrete_field(model: type[models.Model] | models.Model, name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model._meta.label}.{name} is a relation, not a concrete field.")
    return field


def concrete_column(model: type[models.Model] | models.Model, name: str) -> str:
    """The database column of a concrete field."""
    column = concrete_field(model, name).column
    if column is None:
        raise TypeError(f"{model._meta.label}.{name} has no column.")
    return column
