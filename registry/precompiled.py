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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import NotSupportedError, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression, Subquery
from django.db.models.sql.compiler import SQLCompiler

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
