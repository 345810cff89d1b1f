"""Cells are read exactly or not at all: nothing is trimmed, guessed or converted silently."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from interchange import rif


@pytest.mark.parametrize(
    ("_case", "text", "expected"),
    [("iso", "2025-01-02", dt.date(2025, 1, 2)), ("leap day", "2024-02-29", dt.date(2024, 2, 29))],
)
def test_iso_dates_are_read(_case, text, expected):
    assert rif.parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["02/01/2025", "2025-02-30", "2025-1-2", "20250102", "2025-01-02 ", "２０２５-01-02", "2025-01-02T00:00"]
)
def test_anything_but_an_iso_date_is_refused(text):
    with pytest.raises(rif.CellError, match="is not a date in the form YYYY-MM-DD"):
        rif.parse_date(text)


@pytest.mark.parametrize(("text", "expected"), [("0", 0), ("12", 12), ("-3", -3)])
def test_whole_numbers_are_read(text, expected):
    assert rif.parse_int(text) == expected


@pytest.mark.parametrize("text", ["3.0", "+3", " 3", "3 ", "١٢", "12\n", "three"])
def test_anything_but_a_plain_whole_number_is_refused(text):
    with pytest.raises(rif.CellError, match="is not a whole number"):
        rif.parse_int(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("85", Decimal(85)), ("85.5", Decimal("85.5")), ("-0.25", Decimal("-0.25"))]
)
def test_decimal_numbers_are_read_exactly(text, expected):
    assert rif.parse_number(text) == expected


@pytest.mark.parametrize("text", [".5", "5.", "1e3", "1.2.3", "NaN", "Infinity", "١٢", "12\n", " 5"])
def test_anything_but_a_plain_decimal_number_is_refused(text):
    with pytest.raises(rif.CellError, match="is not a number"):
        rif.parse_number(text)


def test_a_decimal_comma_gets_a_hint():
    with pytest.raises(rif.CellError, match=r"use \. as the decimal separator"):
        rif.parse_number("85,5")


def test_enumerations_are_case_sensitive_and_never_defaulted():
    parse = rif.PATIENTS.column("sex").parse
    assert parse("female") == "female"
    with pytest.raises(rif.CellError, match="'Female' is not one of: male, female"):
        parse("Female")


def test_seriousness_criteria_are_a_semicolon_separated_list():
    assert rif.parse_criteria("death;hospitalisation") == ["death", "hospitalisation"]
    with pytest.raises(rif.CellError, match="names a criterion twice"):
        rif.parse_criteria("death;death")


@pytest.mark.parametrize(
    ("value", "text"), [(Decimal("85.0"), "85"), (Decimal("1700.5000"), "1700.5"), (Decimal("0.000"), "0"), (None, "")]
)
def test_exported_numbers_have_no_trailing_zeros(value, text):
    assert rif.format_number(value) == text
