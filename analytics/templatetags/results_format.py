"""Template filters for results pages: journal-style p-values, intervals, percentages and labels."""

from __future__ import annotations

from typing import Any

from django import template

from analytics.survival import formatting

register = template.Library()


@register.filter
def pvalue(p: Any) -> str:
    return formatting.pvalue(p)


@register.filter
def num(value: Any, digits: int = 2) -> str:
    return formatting.number(value, int(digits))


@register.filter
def pct(value: Any, digits: int = 0) -> str:
    return formatting.percent(value, int(digits))


@register.filter
def provenance(code: str) -> str:
    return formatting.provenance_label(code)


@register.simple_tag
def interval(lower: Any, upper: Any, digits: int = 2) -> str:
    return formatting.ci(lower, upper, int(digits))


@register.filter
def group_label(name: Any) -> str:
    return formatting.group_label(name)
