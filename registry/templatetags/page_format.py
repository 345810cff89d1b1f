"""Template helpers for pages that repeat a link or a date on every row (issue 18, item 3).

`{% url %}` reverses its pattern for every row (language, script prefix and URL resolver looked
up each time) and `|date:"d M Y"` parses its format for every row: on the worklist and the batch
pages they were about half of the templates' CPU. Here a page reverses a pattern once and formats
each row's URL from it, and formats a date's "d M Y" (or "D d M Y", "Y-m-d") directly; the text
is the same as `{% url %}` and `|date` give (tests/registry/test_page_format.py).

    {% load page_format %}
    {% url_format "clinic:record_history" "study_id" "kind" "pk" as history_url %}
    {% for t in rows %}<a href="{% url_from history_url patient.study_id t.kind t.pk %}">
      {{ t.date|day_month_year }}</a>{% endfor %}
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django import template
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.http import RFC3986_SUBDELIMS

register = template.Library()

#: What `reverse` leaves unquoted in an argument (RFC 3986 `pchar`), less `/`.
_SAFE = RFC3986_SUBDELIMS + "~:@"


def _marker(slot: int) -> str:
    """Digits (every converter of this project's URLs accepts them: int, str, slug, study_id),
    one value per slot that no URL's own text holds."""
    return f"7301{slot:02d}958246"


class UrlFormat:
    """`reverse(viewname, args=...)` with its arguments left as slots: the pattern is reversed once,
    with a marker in each slot, and `format(*args)` puts each argument, quoted as `reverse` quotes
    it, in its slot. The arguments are not matched against the pattern's converters (`reverse`
    refuses one that does not match): they are values the database holds for that pattern (study
    ids, primary keys, record kinds), and a `/` in one is quoted, so it never adds a path segment."""

    def __init__(self, viewname: str, slots: int) -> None:
        markers = [_marker(slot) for slot in range(slots)]
        url = reverse(viewname, args=markers)
        self.pieces: list[str] = []
        for marker in markers:
            if url.count(marker) != 1:
                raise ValueError(f"{viewname}: cannot find argument {len(self.pieces) + 1} in {url}")
            before, _, url = url.partition(marker)
            self.pieces.append(before)
        self.pieces.append(url)
        self.viewname = viewname

    def format(self, *args: Any) -> str:
        if len(args) != len(self.pieces) - 1:
            raise ValueError(f"{self.viewname} takes {len(self.pieces) - 1} argument(s), not {len(args)}")
        parts = [self.pieces[0]]
        for arg, piece in zip(args, self.pieces[1:], strict=True):
            parts.append(quote(str(arg), safe=_SAFE))
            parts.append(piece)
        return "".join(parts)

    def __str__(self) -> str:
        return f"UrlFormat({self.viewname!r})"


@register.simple_tag
def url_format(viewname: str, *slots: str) -> UrlFormat:
    """A URL pattern reversed once for the page; `slots` name its arguments, in order."""
    return UrlFormat(viewname, len(slots))


@register.simple_tag
def url_from(url: UrlFormat, *args: Any) -> str:
    """The URL of `url_format`'s pattern for these arguments: `{% url name *args %}`."""
    return url.format(*args)


@register.filter(expects_localtime=True, is_safe=False)
def day_month_year(value: Any) -> str:
    """`value|date:"d M Y"` ("03 Dec 2026", the month in the active language), for a date without
    parsing the format; anything else (a datetime, nothing) goes to the date filter itself."""
    if type(value) is dt.date:
        return f"{value.day:02d} {MONTHS_3[value.month].title()} {value.year:04d}"
    return str(date_filter(value, "d M Y"))


@register.filter(expects_localtime=True, is_safe=False)
def weekday_day_month_year(value: Any) -> str:
    """`value|date:"D d M Y"` ("Thu 03 Dec 2026"), as `day_month_year`."""
    if type(value) is dt.date:
        return f"{WEEKDAYS_ABBR[value.weekday()]} {day_month_year(value)}"
    return str(date_filter(value, "D d M Y"))


@register.filter(expects_localtime=True, is_safe=False)
def year_month_day(value: Any) -> str:
    """`value|date:"Y-m-d"` ("2026-12-03", as a `<time datetime>` wants it), as `day_month_year`."""
    if type(value) is dt.date:
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return str(date_filter(value, "Y-m-d"))
