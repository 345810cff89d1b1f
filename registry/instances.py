"""Unsaved and loaded model instances built without `Model.__init__`, for the bulk paths.

Building objects, not writing them: the importer's rules and the services' bulk writers both
construct thousands of instances per chunk, and `Model.__init__`'s keyword handling costs more
than validating a row. Kept apart from `registry.bulk`, which writes, so that adapters may build
instances without being able to write (tests/project/test_adapters_write_through_services.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models import signals
from django.db.models.base import ModelState

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
