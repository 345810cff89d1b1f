"""What each column of a values_list queryset holds, read from its compiled select (used to type
the columns of `COPY (SELECT …)` output, analytics.selectors)."""

from __future__ import annotations

from typing import Any

from django.db import models


def column_kinds(queryset: models.QuerySet[Any]) -> list[str]:
    """What each selected column holds: 'date', 'number' (decimal or float), 'text' or 'other'
    (integers and booleans, which read_csv types by itself)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    compiler.setup_query()
    kinds = []
    for expression, _sql, _alias in compiler.select:
        field = expression.output_field
        internal = field.get_internal_type()
        if internal == "DateField":
            kinds.append("date")
        elif internal in {"DecimalField", "FloatField"}:
            kinds.append("number")
        elif internal in {"CharField", "TextField", "SlugField", "EmailField"}:
            kinds.append("text")
        else:
            kinds.append("other")
    return kinds
