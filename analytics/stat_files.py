"""One dataset table as a statistics package reads it: Stata .dta, SPSS .sav, SAS transport .xpt,
and an R script that reads the CSV with its factor labels.

Pure functions over a pandas frame and the table's column spec (`analytics.dataset.Column`) and
value labels (`analytics.labels`); no Django. Files are written with pyreadstat (ReadStat).

How values are stored (the same in .dta and .sav; docs/dataset.md):

* A coded text column (route, sex, event type, …) becomes a number with a value label per code:
  the codes are numbered 1, 2, … in the order of their labels (`coding`). A boolean is 0 = No,
  1 = Yes; an integer column with labels (os_event, CTCAE grade) keeps its own values.
* Numbers are doubles, dates are dates (Stata %td, SPSS DATE), missing numbers and dates are the
  package's system missing. Stata and SPSS have no missing text: missing text is an empty string.
* A value that has no label stops the export with an error naming it: nothing is silently dropped.
* Variable labels are the dictionary's definition, shortened to what the format holds (Stata 80
  characters, SPSS 256); the full definitions travel beside the file in dictionary.csv.

SAS transport is written as version 5, the version the FDA asks for and the SAS XPORT engine
reads: names of at most 8 characters, labels of at most 40, text of at most 200 bytes. The
table's column names are shortened (`sas_names`), each variable's label is its full dictionary
name, and the mapping is in dictionary.csv. Coded columns stay text codes, with the labels given
as SAS formats in a generated PROC FORMAT program.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from analytics.dataset import Column
from analytics.labels import Labels

STATA_LABEL_MAX = 80
SPSS_LABEL_MAX = 256
XPT_NAME_MAX = 8
XPT_LABEL_MAX = 40
XPT_TEXT_MAX_BYTES = 200

#: SAS member names (at most 8 characters) of each table.
SAS_MEMBERS: dict[str, str] = {
    "patients": "PATIENTS",
    "alsfrs_r": "ALSFRSR",
    "biomarkers": "BIOMARK",
    "cycles": "CYCLES",
    "dispensing": "DISPENSE",
    "adverse_events": "AE",
    "events": "EVENTS",
}


class ExportError(ValueError):
    """The table cannot be written in this format as it stands (the message says why)."""


@dataclass(frozen=True)
class Coding:
    """How a labelled column is stored as numbers: value -> number, number -> label."""

    numbers: dict[object, int]
    labels: dict[int, str]


def coding(pairs: Labels) -> Coding:
    values = [value for value, _ in pairs]
    if all(isinstance(value, int) for value in values):  # booleans are ints too: False 0, True 1
        numbers = {value: int(value) for value in values}  # type: ignore[call-overload]
    else:
        numbers = {value: index for index, value in enumerate(values, start=1)}
    return Coding(numbers, {numbers[value]: label for value, label in pairs})


def _number_of(value: object, numbers: Mapping[object, int], where: str) -> float:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    key = value.item() if hasattr(value, "item") else value  # numpy scalars compare as Python ones
    if key not in numbers:
        raise ExportError(f"{where}: the value {value!r} has no label, so it cannot be coded.")
    return float(numbers[key])


def typed_frame(
    frame: pd.DataFrame, columns: Sequence[Column], value_labels: Mapping[str, Labels], table: str
) -> pd.DataFrame:
    """The table with coded columns as numbers, numbers as doubles, dates as datetime64, text as str."""
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        series = frame[column.name]
        if column.name in value_labels:
            numbers = coding(value_labels[column.name]).numbers
            where = f"{table}.{column.name}"
            out[column.name] = pd.Series(
                [_number_of(value, numbers, where) for value in series], index=frame.index, dtype="float64"
            )
        elif column.type in ("integer", "number"):
            out[column.name] = pd.to_numeric(series, errors="raise").astype("float64")
        elif column.type == "boolean":
            where = f"{table}.{column.name}"
            out[column.name] = pd.Series(
                [_number_of(value, {False: 0, True: 1}, where) for value in series], index=frame.index, dtype="float64"
            )
        elif column.type in ("date", "datetime"):
            out[column.name] = pd.to_datetime(series, errors="raise")
        else:
            out[column.name] = series.astype(object).where(series.notna(), "").astype(str)
    return out


def shorten(text: str, limit: int, *, ascii_only: bool = False) -> str:
    """`text` cut to `limit` characters (bytes when ascii_only) with an ellipsis if it was longer."""
    if ascii_only:
        text = ascii_text(text)
    if len(text) <= limit:
        return text
    ellipsis = "..." if ascii_only else "…"
    return text[: limit - len(ellipsis)].rstrip() + ellipsis


_ASCII = {"≤": "<=", "≥": ">=", "−": "-", "–": "-", "—": "-", "×": "x", "°": " deg", "Δ": "Delta ", "’": "'"}


def ascii_text(text: str) -> str:
    for symbol, replacement in _ASCII.items():
        text = text.replace(symbol, replacement)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def variable_label(column: Column) -> str:
    unit = f" [{column.unit}]" if column.unit and column.unit not in column.definition else ""
    return f"{column.definition}{unit}"


# ---- Stata and SPSS ------------------------------------------------------------------------------
def _value_label_dict(
    columns: Sequence[Column], value_labels: Mapping[str, Labels]
) -> dict[str, dict[int | float, str]]:
    """pyreadstat's value labels: code -> label per labelled column."""
    return {c.name: dict(coding(value_labels[c.name]).labels.items()) for c in columns if c.name in value_labels}


def write_dta(
    frame: pd.DataFrame,
    path: Path,
    *,
    table: str,
    columns: Sequence[Column],
    value_labels: Mapping[str, Labels],
    title: str,
) -> None:
    """Stata 14+ (format 118, UTF-8) with variable labels and value labels."""
    data = typed_frame(frame, columns, value_labels, table)
    pyreadstat.write_dta(
        data,
        path,
        file_label=shorten(title, STATA_LABEL_MAX),
        column_labels=[shorten(variable_label(c), STATA_LABEL_MAX) for c in columns],
        variable_value_labels=_value_label_dict(columns, value_labels),
        version=15,
    )


def _measure(column: Column, value_labels: Mapping[str, Labels]) -> str:
    if column.name in value_labels or column.type in ("string", "category"):
        return "nominal"
    return "scale"


def write_sav(
    frame: pd.DataFrame,
    path: Path,
    *,
    table: str,
    columns: Sequence[Column],
    value_labels: Mapping[str, Labels],
    title: str,
) -> None:
    """SPSS (UTF-8) with variable labels, value labels and measurement levels."""
    data = typed_frame(frame, columns, value_labels, table)
    pyreadstat.write_sav(
        data,
        path,
        file_label=shorten(title, 64),
        column_labels=[shorten(variable_label(c), SPSS_LABEL_MAX) for c in columns],
        variable_value_labels=_value_label_dict(columns, value_labels),
        variable_measure={c.name: _measure(c, value_labels) for c in columns},
    )


# ---- SAS transport (version 5) ----------------------------------------------------------------------
def sas_names(columns: Sequence[Column]) -> dict[str, str]:
    """Column name -> a unique SAS name of at most 8 characters: the name cut to 8, or, when two
    cuts collide, cut to 6 with a two-digit counter (alsfrs_r, alsfrs01, …)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        candidate = column.name[:XPT_NAME_MAX]
        counter = 0
        while candidate.lower() in taken:
            counter += 1
            candidate = f"{column.name[: XPT_NAME_MAX - 2]}{counter:02d}"
        taken.add(candidate.lower())
        names[column.name] = candidate
    return names


def write_xpt(frame: pd.DataFrame, path: Path, *, table: str, columns: Sequence[Column], title: str) -> None:
    """SAS transport version 5: short names, the full name as each variable's label, codes as text."""
    data = typed_frame(frame, columns, {}, table)
    for column in columns:
        if column.type in ("string", "category"):
            too_long = data[column.name].map(lambda text: len(text.encode("utf-8")) > XPT_TEXT_MAX_BYTES)
            if too_long.any():
                raise ExportError(
                    f"{table}.{column.name} holds text longer than the {XPT_TEXT_MAX_BYTES} bytes SAS transport "
                    "version 5 allows; export this table as CSV, Parquet, Stata or SPSS instead."
                )
    names = sas_names(columns)
    pyreadstat.write_xport(
        data.rename(columns=names),
        path,
        file_label=shorten(title, XPT_LABEL_MAX, ascii_only=True),
        column_labels=[shorten(c.name, XPT_LABEL_MAX, ascii_only=True) for c in columns],
        table_name=SAS_MEMBERS[table],
        file_format_version=5,
    )


def _sas_string(text: str) -> str:
    return "'" + ascii_text(text).replace("'", "''") + "'"


def sas_format_name(column: str, numeric: bool) -> str:
    base = "".join(ch for ch in column if ch.isalnum())[:24].upper() + "F"
    return base if numeric else "$" + base


def sas_formats_program(table: str, columns: Sequence[Column], value_labels: Mapping[str, Labels]) -> str:
    """A SAS program that reads the .xpt and attaches the value labels as formats."""
    member = SAS_MEMBERS[table]
    names = sas_names(columns)
    lines = [
        f"/* Reads {table}.xpt (IL-2LD registry analysis dataset, SAS transport version 5) and attaches",
        "   the value labels of its coded columns as formats. Full definitions: dictionary.csv. */",
        f'libname xptin xport "{table}.xpt";',
        "proc format;",
    ]
    applied = []
    for column in columns:
        pairs = value_labels.get(column.name)
        if not pairs:
            continue
        numeric = column.type in ("integer", "number", "boolean")
        fmt = sas_format_name(column.name, numeric)
        lines.append(f"  value {fmt}")
        for value, label in pairs:
            stored = str(int(value)) if numeric else _sas_string(str(value))  # type: ignore[call-overload]
            lines.append(f"    {stored} = {_sas_string(label)}")
        lines.append("  ;")
        applied.append(f"{names[column.name]} {fmt}.")
    lines += ["run;", "", f"data work.{member};", f"  set xptin.{member};"]
    if applied:
        lines.append("  format " + " ".join(applied) + ";")
    lines += ["run;", ""]
    return "\n".join(lines)


# ---- R --------------------------------------------------------------------------------------------
_R_CLASSES = {
    "string": "character",
    "category": "character",
    "integer": "integer",
    "number": "numeric",
    "boolean": "logical",
    "date": "character",
    "datetime": "character",
}


def r_string(text: str) -> str:
    """A double-quoted R string literal; non-ASCII characters as \\u escapes, so any locale reads it."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) > 126 or ord(ch) < 32:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _r_vector(values: Sequence[str]) -> str:
    return "c(" + ", ".join(r_string(v) for v in values) + ")"


R_HELPERS = r"""
# A text cell the registry wrote with a leading single quote (so a spreadsheet would not run it
# as a formula: = + - @ tab or carriage return first, after any quotes) gets its original text
# back: the reverse of registry.safe_csv.neutralise.
unquote_formula <- function(x) sub("^'('*[-=+@\t\r])", "\\1", x)

# factor() would turn a value missing from the levels into NA without a word: refuse instead.
labelled_factor <- function(x, levels, labels, name) {
  unknown <- setdiff(unique(x[!is.na(x)]), levels)
  if (length(unknown) > 0) {
    stop(sprintf("%s holds values without a label: %s", name, paste(unknown, collapse = ", ")))
  }
  factor(x, levels = levels, labels = labels)
}
"""


def _r_column_lines(var: str, column: Column, pairs: Labels | None) -> list[str]:
    ref = f"{var}[[{r_string(column.name)}]]"
    lines = []
    if column.type == "string":
        lines.append(f"{ref} <- unquote_formula({ref})")
    if column.type in ("date", "datetime"):
        lines.append(f'{ref} <- as.Date({ref}, format = "%Y-%m-%d")')
    if pairs and column.type == "category":
        levels = [str(value) for value, _ in pairs]
        labels = [label for _, label in pairs]
        lines.append(
            f"{ref} <- labelled_factor({ref}, {_r_vector(levels)}, {_r_vector(labels)}, {r_string(column.name)})"
        )
    elif pairs and column.type == "integer":
        named = ", ".join(f"{r_string(label)} = {int(value)}L" for value, label in pairs)  # type: ignore[call-overload]
        lines.append(f'attr({ref}, "labels") <- c({named})')
    lines.append(f'attr({ref}, "label") <- {r_string(variable_label(column))}')
    return lines


def r_script(table: str, columns: Sequence[Column], value_labels: Mapping[str, Labels]) -> str:
    """An R script (base R only) that reads `<table>.csv` with column types, factor labels for the
    coded text columns, value labels for coded integers and each column's definition as its label."""
    var = table
    classes = ", ".join(f"{r_string(c.name)} = {r_string(_R_CLASSES[c.type])}" for c in columns)
    lines = [
        f"# Reads {table}.csv from the IL-2LD ALS/MND registry's analysis dataset (pseudonymised).",
        "# Usage: Rscript read_" + table + ".R [path/to/" + table + ".csv]   or   source() it in R.",
        "# Coded text columns become factors labelled in words; logical columns stay TRUE/FALSE;",
        '# each column\'s definition is in attr(x, "label"). Full dictionary: dictionary.csv.',
        R_HELPERS.strip(),
        "",
        "args <- commandArgs(trailingOnly = TRUE)",
        f'csv_path <- if (length(args) > 0) args[[1]] else "{table}.csv"',
        f"expected <- {_r_vector([c.name for c in columns])}",
        f"{var} <- utils::read.csv(",
        '  csv_path, na.strings = "", encoding = "UTF-8", fileEncoding = "UTF-8", check.names = FALSE,',
        "  stringsAsFactors = FALSE,",
        f"  colClasses = c({classes})",
        ")",
        f'if (!identical(names({var}), expected)) stop("{table}.csv does not have the dictionary\'s columns")',
    ]
    for column in columns:
        lines += _r_column_lines(var, column, value_labels.get(column.name))
    lines += [
        "",
        f'message(sprintf("Read %d rows of {table}.", nrow({var})))',
        "",
    ]
    return "\n".join(lines)


# ---- the value labels beside every file ----------------------------------------------------------
def value_label_rows(table: str, columns: Sequence[Column], value_labels: Mapping[str, Labels]) -> list[dict[str, Any]]:
    """table, column, value (as in the CSV), code (as in .dta/.sav), label: one row per label."""
    rows = []
    for column in columns:
        pairs = value_labels.get(column.name)
        if not pairs:
            continue
        numbers = coding(pairs).numbers
        for value, label in pairs:
            rows.append(
                {"table": table, "column": column.name, "value": str(value), "code": numbers[value], "label": label}
            )
    return rows
