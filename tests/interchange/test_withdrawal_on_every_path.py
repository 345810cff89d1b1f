"""After a withdrawal from further data collection, a record dated later is refused with the same
message on every path: the web form, the API and a cohort import (issue 15, item 3)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from access_programme.demo_cohort import seed_cohort
from analytics.selectors import dataset_frames
from interchange.exporter import export_cohort
from registry import services
from registry.models import BiomarkerResult, Patient, Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory
from tests.interchange.conftest import run_import
from tests.interchange.test_round_trip import empty_the_registry, files_of
from tests.interchange.test_same_rules_as_forms import import_says

pytestmark = [pytest.mark.requirement("DAT-02"), pytest.mark.django_db]

WITHDRAWN_ON = dt.date(2025, 3, 3)
LATER = "2025-03-10"
REFUSAL = "The patient withdrew from further data collection on 03 Mar 2025; nothing dated later can be recorded."


@pytest.fixture
def withdrawn(clean_files, import_files) -> Patient:
    import_files({"patients.csv": clean_files["patients.csv"]})
    patient = Patient.objects.get(study_id="GB-LON-0001")
    services.consent_withdraw(
        actor=None, patient=patient, level="no_further_collection", effective_on=WITHDRAWN_ON, reason="Patient's wish"
    )
    return patient


def test_an_imported_record_dated_after_the_withdrawal_is_refused(withdrawn, clean_files, import_files):
    rows = [
        {"patient_id": "GB-LON-0001", "sample_date": "2025-03-01", "analyte": "serum_nfl", "value": "48.2",
         "unit": "pg/mL", "assay": "Simoa"},
        {"patient_id": "GB-LON-0001", "sample_date": LATER, "analyte": "serum_nfl", "value": "50.1",
         "unit": "pg/mL", "assay": "Simoa"},
    ]  # fmt: skip
    result = import_files({"patients.csv": clean_files["patients.csv"], "biomarkers.csv": rows}, name="later")
    assert import_says(result, "biomarkers.csv", 3, "sample_date") == REFUSAL
    assert list(BiomarkerResult.objects.filter(patient=withdrawn).values_list("sample_date", flat=True)) == [
        dt.date(2025, 3, 1)
    ]


def test_the_web_form_refuses_it_with_the_same_message(withdrawn, client):
    clinician = UserFactory.create(role=Role.CLINICIAN, sites=[withdrawn.site])
    login_with_second_factor(client, clinician)
    form = {
        "sample_date": LATER,
        "analyte": "serum_nfl",
        "reported_value": "50.1",
        "reported_unit": "pg/mL",
        "assay": "Simoa",
    }
    response = client.post(f"/patients/{withdrawn.study_id}/biomarkers/new/", form)
    assert REFUSAL in response.context["form"].errors["sample_date"]
    assert not BiomarkerResult.objects.filter(patient=withdrawn).exists()


def test_the_api_refuses_it_with_the_same_message(withdrawn):
    api = APIClient()
    api.force_authenticate(UserFactory.create(role=Role.CLINICIAN, sites=[withdrawn.site]))
    body = {
        "patient": withdrawn.study_id,
        "sample_date": LATER,
        "analyte": "serum_nfl",
        "reported_value": "50.1",
        "reported_unit": "pg/mL",
        "assay": "Simoa",
    }
    response = api.post("/api/v1/biomarkers/", body, format="json")
    assert response.status_code == 400
    assert response.json()["sample_date"] == [REFUSAL]


# --- exports: the analysis dataset and RIF leave out the same patients; the round trip is exact


def test_the_dataset_and_rif_leave_out_the_same_withdrawn_patients_and_round_trip_exactly(tmp_path):
    seed_cohort(patients=16, seed=5, as_of=timezone.localdate())
    no_use, no_collection = Patient.objects.filter(withdrawals__isnull=True).order_by("study_id")[:2]
    for patient, level in ((no_use, "no_data_use"), (no_collection, "no_further_collection")):
        services.consent_withdraw(
            actor=None,
            patient=patient,
            level=level,
            effective_on=patient.consents.get().consent_date,
            reason="Patient's wish",
        )
    first = export_cohort(tmp_path / "first")
    with (tmp_path / "first" / "patients.csv").open(encoding="utf-8", newline="") as handle:
        in_rif = {row["patient_id"] for row in csv.DictReader(handle)}
    in_dataset = set(dataset_frames(None)["patients"]["patient_id"])
    assert in_rif == in_dataset
    assert no_use.study_id not in in_rif and no_collection.study_id in in_rif

    empty_the_registry()
    imported = run_import(tmp_path / "first")
    assert imported.errors == []
    assert imported.outcome.report.totals.created == first.total_rows
    export_cohort(tmp_path / "second")
    assert files_of(tmp_path / "second") == files_of(tmp_path / "first")
