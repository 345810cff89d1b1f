"""Bad input, one test each (the catalogue in docs/security.md): injection strings are stored as
text and escaped on output, spreadsheet formulas are neutralised in CSV exports, oversized
uploads are refused before parsing, impossible dates and out-of-range numbers are field errors."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from interchange.models import ImportRun
from registry import services
from registry.models import AdverseEvent, ClinicalEvent
from tests.conftest import login_with_second_factor
from tests.factories import days_ago

pytestmark = [pytest.mark.requirement("DAT-05"), pytest.mark.django_db]

SCRIPT = "<script>alert('x')</script>"
SQL = "Headache'); DROP TABLE registry_patient; --"


@pytest.fixture
def clinician(world) -> Client:
    client = Client()
    login_with_second_factor(client, world.clinician_london)
    return client


@pytest.fixture
def api(world) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.clinician_london)
    return client


def _ae_form(term: str, **changes: str) -> dict[str, str]:
    return {
        "term": term,
        "onset_date": days_ago(3).isoformat(),
        "ctcae_grade": "1",
        "relatedness": "possible",
        "action_taken": "none",
        "outcome": "unknown",
        **changes,
    }


def _ae_api(world, term: str, **changes: object) -> dict[str, object]:
    return {
        "patient": world.london_patient.study_id,
        "term": term,
        "onset_date": days_ago(3).isoformat(),
        "ctcae_grade": 1,
        "relatedness": "possible",
        **changes,
    }


# --- SQL and HTML injection ----------------------------------------------------------------


def test_an_sql_injection_string_in_a_web_form_is_stored_verbatim(world, clinician):
    url = reverse("clinic:adverse_event_create", args=[world.london_patient.study_id])
    assert clinician.post(url, _ae_form(SQL)).status_code == 302
    assert AdverseEvent.objects.get(patient=world.london_patient).term == SQL
    assert world.london_patient.__class__.objects.count() == 2  # the table is still there


def test_a_script_tag_from_a_web_form_is_rendered_escaped_on_the_patient_page(world, clinician):
    study_id = world.london_patient.study_id
    assert clinician.post(reverse("clinic:adverse_event_create", args=[study_id]), _ae_form(SCRIPT)).status_code == 302
    page = clinician.get(reverse("clinic:patient_detail", args=[study_id])).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert SCRIPT not in page


def test_a_script_tag_in_a_clinical_event_detail_is_rendered_escaped(world, clinician):
    study_id = world.london_patient.study_id
    form = {"event_type": "gastrostomy", "event_date": days_ago(3).isoformat(), "detail": SCRIPT}
    assert clinician.post(reverse("clinic:event_create", args=[study_id]), form).status_code == 302
    assert ClinicalEvent.objects.get(patient=world.london_patient).detail == SCRIPT
    page = clinician.get(reverse("clinic:patient_detail", args=[study_id])).content.decode()
    assert "&lt;script&gt;" in page
    assert SCRIPT not in page


def test_injection_strings_sent_to_the_api_are_stored_verbatim(world, api):
    response = api.post("/api/v1/adverse-events/", _ae_api(world, SQL + SCRIPT), format="json")
    assert response.status_code == 201, response.content
    assert AdverseEvent.objects.get(pk=response.json()["id"]).term == SQL + SCRIPT


def test_a_script_tag_sent_to_the_api_is_rendered_escaped_on_the_patient_page(world, api, clinician):
    assert api.post("/api/v1/adverse-events/", _ae_api(world, SCRIPT), format="json").status_code == 201
    page = clinician.get(reverse("clinic:patient_detail", args=[world.london_patient.study_id])).content.decode()
    assert "&lt;script&gt;" in page
    assert SCRIPT not in page


# --- spreadsheet formulas in CSV exports -------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("term", FORMULAS, ids=["equals-dde", "plus", "minus", "at", "tab", "carriage-return"])
def test_a_formula_in_an_exported_csv_cell_is_prefixed_with_a_quote(world, term):
    services.adverse_event_record(
        actor=None,
        patient=world.london_patient,
        term=term,
        onset_date=days_ago(3),
        ctcae_grade=1,
        relatedness="possible",
    )
    client = Client()
    login_with_second_factor(client, world.analyst)
    response = client.get(reverse("analytics:table-download", kwargs={"table": "adverse_events", "file_format": "csv"}))
    text = b"".join(response.streaming_content).decode("utf-8")
    terms = [row["term"] for row in csv.DictReader(io.StringIO(text))]
    assert terms == ["'" + term]


def test_a_formula_in_the_api_csv_export_is_prefixed_with_a_quote(world):
    services.adverse_event_record(
        actor=None,
        patient=world.london_patient,
        term="=1+1",
        onset_date=days_ago(3),
        ctcae_grade=1,
        relatedness="possible",
    )
    client = APIClient()
    client.force_authenticate(world.analyst)
    response = client.get("/api/v1/datasets/adverse_events/csv/")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert [row["term"] for row in csv.DictReader(io.StringIO(text))] == ["'=1+1"]


# --- oversized uploads -----------------------------------------------------------------------

#: No documented limit exists; a cohort file of this size is far beyond any real site's export.
OVERSIZED_BYTES = 60 * 1024 * 1024


def test_an_oversized_upload_to_the_import_page_is_refused_before_parsing(world):
    client = Client()
    login_with_second_factor(client, world.data_manager)
    header = b"study_id,site,sex,year_of_birth\n"
    big = SimpleUploadedFile("patients.csv", header + b"x" * OVERSIZED_BYTES, content_type="text/csv")
    response = client.post(reverse("interchange:upload"), {"files": big})
    assert response.status_code in (200, 400, 413)
    assert not ImportRun.objects.exists()


# --- impossible dates and out-of-range numbers -----------------------------------------------


def test_an_impossible_date_in_a_web_form_is_a_field_error(world, clinician):
    url = reverse("clinic:event_create", args=[world.london_patient.study_id])
    response = clinician.post(url, {"event_type": "gastrostomy", "event_date": "2026-02-30"})
    assert response.status_code == 200
    assert "event_date" in response.context["form"].errors
    assert not ClinicalEvent.objects.exists()


def test_an_impossible_date_sent_to_the_api_is_a_field_error(world, api):
    payload = {"patient": world.london_patient.study_id, "event_type": "gastrostomy", "event_date": "2026-02-30"}
    response = api.post("/api/v1/events/", payload, format="json")
    assert response.status_code == 400
    assert "event_date" in response.json()
    assert not ClinicalEvent.objects.exists()


def test_an_out_of_range_ctcae_grade_in_a_web_form_is_a_field_error(world, clinician):
    url = reverse("clinic:adverse_event_create", args=[world.london_patient.study_id])
    response = clinician.post(url, _ae_form("Headache", ctcae_grade="7"))
    assert response.status_code == 200
    assert "ctcae_grade" in response.context["form"].errors
    assert not AdverseEvent.objects.exists()


def test_an_out_of_range_ctcae_grade_sent_to_the_api_is_a_field_error(world, api):
    response = api.post("/api/v1/adverse-events/", _ae_api(world, "Headache", ctcae_grade=7), format="json")
    assert response.status_code == 400
    assert "ctcae_grade" in response.json()
    assert not AdverseEvent.objects.exists()


def test_an_out_of_range_alsfrs_r_item_sent_to_the_api_is_a_field_error(world, api):
    from tests.api.personas import ITEMS

    payload = {
        "patient": world.london_patient.study_id,
        "assessment_date": days_ago(2).isoformat(),
        **ITEMS,
        "q1_speech": 9,
    }
    response = api.post("/api/v1/alsfrs-r/", payload, format="json")
    assert response.status_code == 400
    assert "q1_speech" in response.json()


def test_an_out_of_range_biomarker_value_in_a_web_form_is_a_field_error(world, clinician):
    url = reverse("clinic:biomarker_create", args=[world.london_patient.study_id])
    form = {
        "sample_date": days_ago(3).isoformat(),
        "analyte": "csf_pnfh",
        "reported_value": "-5",
        "reported_unit": "pg/mL",
        "assay": "Ella",
    }
    response = clinician.post(url, form)
    assert response.status_code == 200
    assert "reported_value" in response.context["form"].errors
