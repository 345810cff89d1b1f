"""One CSV writer (registry.safe_csv) for every CSV the registry produces: formula-like text is
neutralised with a leading quote (OWASP CSV injection), numbers are left alone, and the
interchange format takes the quote off again on import, so nothing is lost on a round trip."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import TextField, Value
from django.test import Client
from django.urls import reverse

from interchange.exporter import export_cohort
from registry import safe_csv, services
from registry.models import AdverseEvent, Role, Site
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory, days_ago, treated_patient
from tests.interchange.conftest import CLEAN, read_cohort, run_import, sites, write_cohort
from tests.interchange.test_round_trip import empty_the_registry

__all__ = ["sites"]

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = (
    "registry",
    "access_programme",
    "accounts",
    "clinic",
    "pharmacy",
    "interchange",
    "analytics",
    "api",
    "config",
)
# registry/bulk.py feeds rows to PostgreSQL's COPY FROM STDIN: a wire format, never a file.
NOT_A_FILE = {"registry/bulk.py"}
CSV_CALL = re.compile(r"(?<!\w)csv\.(writer|DictWriter)\(|\.to_csv\(")
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]


def formula_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row if cell.startswith(safe_csv.FORMULA_PREFIXES)]


def test_no_module_writes_csv_except_through_the_one_writer():
    offenders = []
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if "/migrations/" in name or name == "registry/safe_csv.py" or name in NOT_A_FILE:
                continue
            if CSV_CALL.search(path.read_text(encoding="utf-8")):
                offenders.append(name)
    assert offenders == []


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_like_text_gets_a_leading_quote_and_comes_back_unquoted(text):
    assert safe_csv.neutralise(text) == "'" + text
    assert safe_csv.unquote(safe_csv.neutralise(text)) == text


@pytest.mark.parametrize("text", ["'=1+1", "''-2", "'plain", "plain", "", "O'Neil", "1-2"])
def test_every_text_survives_neutralise_then_unquote(text):
    assert safe_csv.unquote(safe_csv.neutralise(text)) == text


@pytest.mark.parametrize("number", [-0.52, -3, Decimal("-1.5")])
def test_numbers_are_written_as_numbers_even_when_negative(number):
    buffer = io.StringIO()
    safe_csv.writer(buffer, lineterminator="\n").writerow([number, "-x"])
    assert buffer.getvalue() == f"{number},'-x\n"


def test_only_the_named_text_columns_are_neutralised_when_every_cell_arrives_as_text():
    buffer = io.StringIO()
    safe_csv.writer(buffer, text_columns=[1], lineterminator="\n").writerows([["-0.52", "=x"], ["-1", "ok"]])
    assert buffer.getvalue() == "-0.52,'=x\n-1,ok\n"


def test_the_import_report_neutralises_a_formula_in_a_rejected_key(sites, tmp_path):
    files = read_cohort(CLEAN)
    files["alsfrs_r.csv"][0]["patient_id"] = '=HYPERLINK("http://x")'
    run = run_import(write_cohort(tmp_path / "cohort", files))
    keys = [issue["key"] for issue in run.errors if issue["file"] == "alsfrs_r.csv"]
    assert keys and keys[0].startswith("'=HYPERLINK")
    cells = [cell for issue in run.issues for cell in issue.values()]
    assert [cell for cell in cells if cell.startswith(safe_csv.FORMULA_PREFIXES)] == []


@pytest.mark.django_db
def test_the_overview_csv_neutralises_a_site_name_that_looks_like_a_formula():
    site = SiteFactory(code="GB-XSS", name='=HYPERLINK("http://evil")')
    treated_patient(site=site)
    client = Client()
    login_with_second_factor(client, UserFactory(username="ana", role=Role.ANALYST))
    response = client.get(reverse("analytics:overview-csv", kwargs={"name": "enrolment_by_site"}))
    text = response.content.decode()
    assert response.status_code == 200 and formula_cells(text) == []


@pytest.mark.django_db
def test_an_interchange_export_neutralises_formulas_and_imports_them_back_unchanged(tmp_path):
    patient = treated_patient(site=SiteFactory(code="GB-LON"))
    terms = ["=1+1", "'=already quoted", "-bad"]
    for n, term in enumerate(terms):
        services.adverse_event_record(
            actor=None, patient=patient, term=term, onset_date=days_ago(3 + n), ctcae_grade=1, relatedness="possible"
        )
    export_cohort(tmp_path / "cohort")
    exported = (tmp_path / "cohort" / "adverse_events.csv").read_text(encoding="utf-8")
    assert formula_cells(exported) == []
    empty_the_registry()
    assert run_import(tmp_path / "cohort").errors == []
    assert sorted(AdverseEvent.objects.values_list("term", flat=True)) == sorted(terms)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        *(f"{prefix}x" for prefix in safe_csv.FORMULA_PREFIXES),
        *(f"'{prefix}x" for prefix in safe_csv.FORMULA_PREFIXES),
        *(f"''{prefix}" for prefix in safe_csv.FORMULA_PREFIXES),
        *safe_csv.FORMULA_PREFIXES,
        "'",
        "''",
        "'plain",
        "plain",
        "",
        "O'Neil",
        "1-2",
        " =x",
        "é=x",
    ],
)
def test_the_database_neutralises_text_exactly_as_the_writer_does(text):
    """The COPY export neutralises in its SELECT (safe_csv.neutralised_expression): same rule."""
    site = SiteFactory(code="GB-CSV")
    value = Value(text, output_field=TextField())
    cells = Site.objects.filter(pk=site.pk).values_list(safe_csv.neutralised_expression(value), flat=True)
    assert cells.get() == safe_csv.neutralise(text)
