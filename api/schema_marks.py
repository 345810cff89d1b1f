"""The API views' schema annotations, handed to drf-spectacular when a schema is first asked for.

drf-spectacular's `extend_schema` builds a schema class as it decorates, which imports its
AutoSchema and with it `rest_framework.test` and `django.test`: every program that loads the URL
confs (web workers, `manage.py check`) paid for the schema tooling at start (docs/benchmarks.md,
"Start-up"). The views mark their methods with this module's `extend_schema` and
`extend_schema_view` (drf-spectacular's arguments, unchanged), and carry `DeferredSchema` as their
`schema`. The first time any view's schema is read, every mark is applied with drf-spectacular's
own decorators, in the order the views were defined. A schema generator lists the endpoints
(reading each view class's `schema`) before it inspects any, and reaches them through the URL
confs, which import every view module: so every mark is applied before the first view is
inspected, whoever generates the schema (the schema views, `manage.py spectacular`, tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rest_framework.decorators import MethodMapper
from rest_framework.schemas.inspectors import DefaultSchema, ViewInspector

T = TypeVar("T")

#: (view class or method, the extend_schema arguments or a method name → Mark mapping), in order.
_pending: list[tuple[Any, dict[str, Any]]] = []


class Mark:
    """drf-spectacular's `extend_schema(**kwargs)`, kept until the schema is asked for."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs

    def __call__(self, method: T) -> T:
        _pending.append((method, self.kwargs))
        return method


def extend_schema(**kwargs: Any) -> Mark:
    return Mark(kwargs)


def extend_schema_view(**marks: Mark) -> Callable[[T], T]:
    def mark(view: T) -> T:
        _pending.append((view, marks))
        return view

    return mark


def apply_marks() -> None:
    """Hand every pending mark to drf-spectacular (once each; later calls find none)."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from drf_spectacular import utils

    while _pending:
        target, arguments = _pending.pop(0)
        if isinstance(target, type):
            methods = {name: utils.extend_schema(**mark.kwargs) for name, mark in arguments.items()}
            utils.extend_schema_view(**methods)(target)
        else:
            utils.extend_schema(**arguments)(target)


class DeferredSchema(DefaultSchema):
    """A view's `schema`: the registry's AutoSchema (api.schema), imported with drf-spectacular's
    when it is first read, after the pending marks are applied. Like DRF's own default (a fresh
    inspector each time the view's schema is read, unless one was set on the view)."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        result = ViewInspector.__get__(self, instance, owner)
        if not isinstance(result, DeferredSchema):
            return result
        # heavy: imported when used (docs/benchmarks.md, start-up)
        from api.schema import RegistryAutoSchema

        apply_marks()
        inspector = RegistryAutoSchema()
        inspector.view = instance
        return inspector


class DeferredSchemaViewSet:
    """A viewset mixin (before DRF's viewset classes): `DeferredSchema` as the schema, and the
    `@action` methods listed without reading it. DRF's router lists them with
    `inspect.getmembers`, which reads every attribute of the class, `schema` included, when the
    URL conf is loaded."""

    schema = DeferredSchema()

    @classmethod
    def get_extra_actions(cls) -> list[Any]:
        """DRF's `ViewSetMixin.get_extra_actions`: the `@action` methods, by name."""
        names = sorted({name for klass in cls.__mro__ for name in vars(klass)} - {"schema"})
        members = [getattr(cls, name) for name in names]
        return [member for member in members if isinstance(getattr(member, "mapping", None), MethodMapper)]
