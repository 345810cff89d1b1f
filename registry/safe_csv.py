"""The one CSV writer: every CSV file the registry produces is written through it.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return is run as a
formula by Excel, LibreOffice and Google Sheets when the file is opened ("CSV injection",
OWASP: https://owasp.org/www-community/attacks/CSV_Injection). The writer puts a single quote
in front of such text, which spreadsheets show as text. The rule (docs/security.md, "CSV"):

* only **text** is touched. A number (``int``, ``float``, ``Decimal``) is written as it is, so
  a negative slope stays ``-0.52``. Where a table's cells all arrive as text (a database
  ``COPY``, or the interchange format's formatted cells), the caller names its free-text
  columns with ``text_columns`` and only those are checked: numeric, date and coded columns are
  written unchanged.
* text that already starts with quotes followed by a formula character gets one more quote, so
  the rule is reversible: ``unquote`` (used by the importer) gives back exactly the text that
  was written, and a value such as ``'=x`` survives an export and re-import.

Where the database writes the CSV itself (PostgreSQL ``COPY … TO STDOUT``, the dataset export),
``neutralised_expression`` is the same rule as a query expression, built from the same
``FORMULA_PREFIXES`` and ``QUOTE`` (tested equal to ``neutralise`` for every prefix).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from django.db.models import Case, Expression, F, Func, TextField, Value, When
from django.db.models.functions import Concat, Left, Ord
from django.db.models.lookups import In

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: What a spreadsheet shows as the start of text; also put in front of a formula-like cell.
QUOTE = "'"
_FIRST = frozenset((*FORMULA_PREFIXES, QUOTE))
#: The same characters' codes, for the database (`neutralised_expression`).
_FIRST_CODES = sorted(ord(character) for character in _FIRST)
#: Formula-like text: any number of quotes, then a formula prefix.
_QUOTED = re.compile(f"{re.escape(QUOTE)}*[{re.escape(''.join(FORMULA_PREFIXES))}]")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet may safely open it: formula-like text gets a leading quote."""
    if value.__class__ is str and value and value[0] in _FIRST and _QUOTED.match(value):
        return QUOTE + value
    return value


def neutralised_expression(field: str | Expression) -> Case:
    """`neutralise` of a text column, computed by the database: the value gets a leading quote
    when, once its leading quotes are set aside, it starts with a formula prefix (what
    `_QUOTED` matches). NULL stays NULL.

    As `neutralise` does, it looks at the first character's code before anything else: for
    nearly every cell that settles it without building a string, where LTRIM and LEFT build two
    (PostgreSQL, 559,303 biomarker results: 60–70 ms less a text column, docs/benchmarks.md)."""
    column = F(field) if isinstance(field, str) else field
    unquoted = Func(column, Value(QUOTE), function="LTRIM", output_field=TextField())
    formula_like = Case(
        When(
            In(Left(unquoted, 1), list(FORMULA_PREFIXES)), then=Concat(Value(QUOTE), column, output_field=TextField())
        ),
        default=column,
        output_field=TextField(),
    )
    return Case(When(In(Ord(column), _FIRST_CODES), then=formula_like), default=column, output_field=TextField())


def unquote(value: str) -> str:
    """Undo `neutralise` on a cell read back from a file the registry wrote."""
    if value.startswith(QUOTE) and _QUOTED.match(value, 1):
        return value[1:]
    return value


class SafeWriter:
    """`csv.writer` whose rows are neutralised (all text cells, or only `text_columns`)."""

    def __init__(self, stream: _Writable, *, text_columns: Collection[int] | None = None, **fmtparams: Any) -> None:
        self._writer = csv.writer(stream, **fmtparams)
        self._text_columns = None if text_columns is None else tuple(text_columns)

    def _safe(self, row: Iterable[Any]) -> list[Any]:
        if self._text_columns is None:
            return [neutralise(value) for value in row]
        cells = list(row)
        for i in self._text_columns:
            cells[i] = neutralise(cells[i])
        return cells

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(self._safe(row))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        if self._text_columns is not None and isinstance(rows, list):
            self._writer.writerows(self._safe_chunk(rows, self._text_columns))
        else:
            self._writer.writerows(self._safe(row) for row in rows)

    @staticmethod
    def _safe_chunk(rows: list[Any], text_columns: tuple[int, ...]) -> list[Any]:
        """A chunk of rows scanned a column at a time: almost no row needs a change, so this is
        the fast path for the large exports (100,000 patients)."""
        for i in text_columns:
            hits = [k for k, row in enumerate(rows) if (value := row[i]).__class__ is str and value[:1] in _FIRST]
            for k in hits:
                value = neutralise(rows[k][i])
                if value is not rows[k][i]:
                    row = list(rows[k])
                    row[i] = value
                    rows[k] = row
        return rows


def writer(stream: _Writable, *, text_columns: Collection[int] | None = None, **fmtparams: Any) -> SafeWriter:
    return SafeWriter(stream, text_columns=text_columns, **fmtparams)


class DictWriter:
    """`csv.DictWriter` through the safe writer."""

    def __init__(self, stream: _Writable, fieldnames: Sequence[str], **fmtparams: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = SafeWriter(stream, **fmtparams)

    def writeheader(self) -> Any:
        return self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._writer.writerow(row.get(name, "") for name in self.fieldnames)

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


class Echo:
    """A file-like object whose write returns the line, for a writer in a streamed response."""

    def write(self, value: str) -> str:
        return value
