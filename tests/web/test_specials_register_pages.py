"""The specials register page and its inspection export (issue 16, item 5): site-scoped, never
cached, the CSV through the safe writer, the PDF holding the batch numbers; every export logged."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from access_programme import selectors
from analytics import specials_export
from analytics.models import ExportLog
from registry.models import IdentityAccess
from tests.access_programme.test_specials_register import adverse_event, supply
from tests.factories import BatchFactory, IdentityFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplies(london, sheffield):
    """A supply at London (with a name and a reaction) and one at Sheffield."""
    here = treated_patient(london)
    IdentityFactory(patient=here, given_name="Ada", family_name="Lovelace")
    supply(here, BatchFactory.create(batch_number="SPX-LON-1"), days_ago(20), prescriber='=HYPERLINK("x")')
    adverse_event(here, days_ago(18), "Injection site reaction")
    supply(treated_patient(sheffield), BatchFactory.create(batch_number="SPX-SHF-9"), days_ago(20))
    return here


def period() -> dict[str, str]:
    return {"from": days_ago(60).isoformat(), "to": days_ago(0).isoformat()}


def test_the_register_page_shows_the_sites_supplies_with_names_and_is_never_cached(pharmacist_client, supplies):
    response = pharmacist_client.get(reverse("pharmacy:specials_register"), period())
    content = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "SPX-LON-1" in content and "Ada Lovelace" in content and "Injection site reaction" in content
    assert "SPX-SHF-9" not in content
    assert IdentityAccess.objects.filter(patient=supplies, channel="specials register").count() == 1


def test_a_period_that_ends_before_it_starts_is_refused_on_the_page(pharmacist_client, supplies):
    response = pharmacist_client.get(reverse("pharmacy:specials_register"), {"from": "2026-05-01", "to": "2026-01-01"})
    assert response.status_code == 400 and "ends before it starts" in response.content.decode()


def test_the_csv_export_has_the_register_columns_neutralises_formulas_and_is_logged(pharmacist_client, supplies):
    response = pharmacist_client.get(reverse("analytics:specials-register-csv"), period())
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="il2ld_specials_register_')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert tuple(rows[0]) == selectors.SPECIALS_CSV_HEADER
    (line,) = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert (line["batch_number"], line["patient_name"], line["site"]) == ("SPX-LON-1", "Ada Lovelace", "GB-LON")
    assert line["prescriber"] == '\'=HYPERLINK("x")'  # a formula is written as text
    assert line["suspected_adverse_reactions"].startswith("Injection site reaction")
    log = ExportLog.objects.get()
    assert (log.table, log.file_format, log.row_count, log.completed) == ("specials_register", "csv", 1, True)
    assert IdentityAccess.objects.filter(channel="specials register export").count() == 1


def test_the_pdf_export_opens_and_holds_the_sites_batch_numbers_only(pharmacist_client, supplies):
    response = pharmacist_client.get(reverse("analytics:specials-register-pdf"), period())
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "SPX-LON-1" in text and "SPX-SHF-9" not in text and "regulation 170" in text
    log = ExportLog.objects.get()
    assert (log.table, log.file_format, log.row_count, log.completed) == ("specials_register", "pdf", 1, True)


def test_a_pdf_of_more_supplies_than_it_holds_is_refused_saying_why_and_a_shorter_period_is_made(
    pharmacist_client, london, monkeypatch
):
    monkeypatch.setattr(specials_export, "PDF_MAX_ROWS", 2)  # 2,000 in use: the same check with fewer rows
    batch = BatchFactory.create()
    for days in (30, 20, 10):
        supply(treated_patient(london), batch, days_ago(days))
    response = pharmacist_client.get(reverse("analytics:specials-register-pdf"), period())
    assert (response.status_code, response["Content-Type"]) == (400, "text/plain; charset=utf-8")
    assert response.content.decode() == (
        "3 supplies in this period: a PDF holds at most 2. Export a shorter period, or the CSV."
    )
    assert not ExportLog.objects.exists()

    shorter = {"from": days_ago(25).isoformat(), "to": days_ago(0).isoformat()}  # 2 supplies: as many as it holds
    response = pharmacist_client.get(reverse("analytics:specials-register-pdf"), shorter)
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert ExportLog.objects.get().row_count == 2


def test_a_data_manager_exports_one_site_and_a_clinician_is_refused(clinician_client, data_manager, supplies):
    from tests.web.conftest import logged_in

    response = logged_in(data_manager).get(reverse("analytics:specials-register-csv"), {**period(), "site": "GB-SHF"})
    text = b"".join(response.streaming_content).decode()
    assert "SPX-SHF-9" in text and "SPX-LON-1" not in text
    assert clinician_client.get(reverse("analytics:specials-register-csv")).status_code == 403
    assert clinician_client.get(reverse("pharmacy:specials_register")).status_code == 403
    assert not ExportLog.objects.filter(user__username="alice").exists()
