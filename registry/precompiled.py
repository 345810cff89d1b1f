"""Subqueries compiled once per process, for querysets that are built once per process.

Django compiles a queryset to SQL on every evaluation, and a correlated subquery is a whole
query to compile. The follow-up annotations of the patient list, the worklist and the patient
page are ten of them (`access_programme.selectors.follow_up.with_follow_up`): compiling them was
the largest single cost of the patient page's query (issue 18, item 3), though their SQL never
changes; only the outer query's filters do. `with_subqueries_compiled` compiles each subquery in
a queryset's annotations once, keeping its SQL text and parameters, so that every later
evaluation compiles only the outer query. The SQL sent is the same, character for character
(tests/registry/test_precompiled.py).

A compiled subquery names the outer table as it was when compiled, so it refuses to be moved
into another query (used as a subquery itself, where Django would rename the outer table):
such a queryset must be built from the uncompiled one.

`compiled_per_value` goes further for the small reads that differ only in one value, such as
each kind of record on the patient page (`patient_id = %s`): the whole query is compiled once
per process and database, and each call runs that SQL with the value put in, through Django's
own model iterable (same instances, same related objects). Compiling those reads was about a
fifth of the patient page's CPU (issue 18, item 3).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, cast

from django.db import NotSupportedError, connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression, Subquery
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import UpdateQuery

M = TypeVar("M", bound=models.Model)


class CompiledSubquery(Expression):
    """A subquery's SQL and parameters, as its compilation gave them; formatted in SELECT as it was."""

    def __init__(self, subquery: Subquery, sql: str, params: tuple[Any, ...] | list[Any]) -> None:
        super().__init__(output_field=subquery.output_field)
        self.subquery, self.sql, self.params = subquery, sql, tuple(params)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.sql}, {self.params})"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
        return self.sql, self.params

    def select_format(self, compiler: SQLCompiler, sql: str, params: Any) -> Any:
        return self.subquery.select_format(compiler, sql, params)  # e.g. EXISTS where booleans can't be selected

    @property
    def conditional(self) -> bool:
        return bool(self.subquery.conditional)  # `Q(exists_annotation=True)` is the EXISTS itself

    def get_group_by_cols(self) -> list[Any]:
        return [self]

    def relabeled_clone(self, change_map: Mapping[str, str]) -> CompiledSubquery:
        if change_map:
            raise NotSupportedError("A precompiled subquery names its outer table as compiled: it cannot move.")
        return self


def with_subqueries_compiled(queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """The same queryset, with every subquery of its annotations compiled now, once."""
    queryset = queryset.all()
    compiler = queryset.query.get_compiler(queryset.db)
    queryset.query.annotations = {
        name: _compiled(expression, compiler) for name, expression in queryset.query.annotations.items()
    }
    return queryset


def _compiled(expression: Any, compiler: SQLCompiler) -> Any:
    """`expression` with each subquery in it (an annotation, or inside a Case, Coalesce or lookup) compiled."""
    if isinstance(expression, Subquery):  # Exists too
        sql, params = compiler.compile(expression)
        return CompiledSubquery(expression, sql, params)
    if not hasattr(expression, "get_source_expressions"):
        return expression
    sources = expression.get_source_expressions()
    compiled = [None if source is None else _compiled(source, compiler) for source in sources]
    if all(new is old for new, old in zip(compiled, sources, strict=True)):
        return expression
    expression = expression.copy() if hasattr(expression, "copy") else expression.clone()  # a WhereNode clones
    expression.set_source_expressions(compiled)
    return expression


#: The value a `compiled_per_value` query is compiled with, found again among its parameters (within
#: a 32-bit integer, or Django would compile a lookup on an integer column to "no rows"): no
#: primary key or foreign key is negative, so no other parameter of such a query can equal it.
_PLACEHOLDER = -1_739_120_461

#: What `SQLCompiler.as_sql` leaves on the compiler for `execute_sql` and `results_iter`.
_COMPILER_STATE = ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")


def _placeholder_slots(params: list[Any]) -> list[int]:
    """Where the placeholder value is among a compiled query's parameters (it must be there)."""
    slots = [i for i, param in enumerate(params) if param == _PLACEHOLDER]
    if not slots:
        raise NotSupportedError("The value is not among the compiled query's parameters.")
    return slots


def _bound(params: list[Any], slots: list[int], value: Any) -> tuple[Any, ...]:
    bound = list(params)
    for slot in slots:
        bound[slot] = value
    return tuple(bound)


class _Compiled:
    """A query's SQL, its parameters with the placeholder's positions, and the compiler state
    that Django's iterables read after `as_sql` (the select list, the model and related-model
    layout, the annotation columns)."""

    def __init__(self, compiler: SQLCompiler) -> None:
        sql, params = compiler.as_sql()
        self.sql, self.params = sql, list(params)
        self.slots = _placeholder_slots(self.params)
        self.state = {name: getattr(compiler, name) for name in _COMPILER_STATE}

    def compiler(self, query: models.sql.Query, using: str, value: Any) -> SQLCompiler:
        """A compiler for this thread's connection, its SQL known, with `value` in the placeholder's place."""
        compiler = _BoundCompiler(query, connections[using], using)
        compiler.__dict__.update(self.state)
        compiler.bound_sql = self.sql, _bound(self.params, self.slots, value)
        return compiler


class _BoundCompiler(SQLCompiler):
    """A compiler whose SQL is already known: `as_sql` returns it, with the value bound."""

    bound_sql: tuple[str, tuple[Any, ...]]

    def as_sql(self, with_limits: bool = True, with_col_aliases: bool = False) -> tuple[str, tuple[Any, ...]]:
        return self.bound_sql


class _BoundQuery:
    """What a queryset's model iterable asks of its query: a compiler (here, the bound one)."""

    def __init__(self, query: models.sql.Query, compiled: _Compiled, using: str, value: Any) -> None:
        self.query, self.compiled, self.using, self.value = query, compiled, using, value

    def get_compiler(self, using: str | None = None, connection: Any = None, elide_empty: bool = True) -> SQLCompiler:
        return self.compiled.compiler(self.query, self.using, self.value)


class compiled_per_value(Generic[M]):  # lower case: used as a decorator, as functools.cache is
    """The queryset `build(value)` returns, compiled once per database and run for any value.

    `build` must use its value once or more as a query parameter (e.g. `patient_id=value`) and
    nowhere else: the queryset is built and compiled once, with a placeholder, and each call
    puts its value where the placeholder was. The value is sent as given, not prepared by the
    field as a lookup would: pass what the column holds (a primary key, an id). Returns the
    model instances, as `list(queryset)`."""

    def __init__(self, build: Callable[[Any], models.QuerySet[M]]) -> None:
        self.build = build
        self.__doc__, self.__name__ = build.__doc__, build.__name__
        self._model: type[M] | None = None
        self._compiled: dict[str, tuple[models.sql.Query, _Compiled]] = {}
        self._lock = threading.Lock()

    def __call__(self, value: Any) -> list[M]:
        if self._model is None:
            self._model = self.build(_PLACEHOLDER).model
        using = router.db_for_read(self._model)
        query, compiled = self._compiled.get(using) or self._compile(using)
        bound = _BoundQuery(query, compiled, using, value)
        return list(models.QuerySet(model=self._model, query=bound, using=using))  # type: ignore[arg-type]

    def _compile(self, using: str) -> tuple[models.sql.Query, _Compiled]:
        with self._lock:
            if using not in self._compiled:
                template = self.build(_PLACEHOLDER).using(using)
                plain = not template._prefetch_related_lookups  # type: ignore[attr-defined]
                if not plain or template._iterable_class is not models.query.ModelIterable:
                    raise NotSupportedError("Only querysets of model instances are compiled per value.")
                self._compiled[using] = template.query, _Compiled(template.query.get_compiler(using))
            return self._compiled[using]


#: One UPDATE as `queryset.update(**values)` would run it.
Update = tuple[models.QuerySet[Any], dict[str, Any]]


class compiled_updates_per_value:  # lower case: used as a decorator, as compiled_per_value is
    """The UPDATEs `build(value)` describes, compiled once per database and run for any value.

    `build` returns (queryset, values) pairs, each what `queryset.update(**values)` runs, with the
    value used as `compiled_per_value` requires (a parameter, nowhere else). A derived column kept
    up to date on every save (`access_programme.next_due`) is an UPDATE with correlated
    subqueries whose SQL never changes, only the patient's id: compiling it was a quarter of an
    ALSFRS-R save's CPU (issue 18, item 3). The SQL sent is Django's, character for character
    (tests/registry/test_precompiled.py). Returns the number of rows updated, in all.
    """

    def __init__(self, build: Callable[[Any], list[Update]]) -> None:
        self.build = build
        self.__doc__, self.__name__ = build.__doc__, build.__name__
        self._model: type[models.Model] | None = None
        self._compiled: dict[str, list[tuple[str, list[Any], list[int]]]] = {}
        self._lock = threading.Lock()

    def __call__(self, value: Any) -> int:
        if self._model is None:
            self._model = self.build(_PLACEHOLDER)[0][0].model
        using = router.db_for_write(self._model)
        statements = self._compiled.get(using) or self._compile(using)
        updated = 0
        with transaction.mark_for_rollback_on_error(using=using), connections[using].cursor() as cursor:
            for sql, params, slots in statements:
                cursor.execute(sql, _bound(params, slots, value))
                updated += cursor.rowcount
        return updated

    def _compile(self, using: str) -> list[tuple[str, list[Any], list[int]]]:
        with self._lock:
            if using not in self._compiled:
                statements = []
                for queryset, values in self.build(_PLACEHOLDER):
                    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
                    query.add_update_values(values)
                    query.clear_select_clause()
                    if query.related_updates or not connections[using].features.update_can_self_select:
                        raise NotSupportedError("Only an UPDATE of one table, in one statement, is compiled per value.")
                    sql, params = query.get_compiler(using).as_sql()
                    statements.append((sql, list(params), _placeholder_slots(list(params))))
                self._compiled[using] = statements
            return self._compiled[using]
