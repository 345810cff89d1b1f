"""Writes through the API go through the services: validation, reason for change, optimistic locking."""

from __future__ import annotations

import pytest

from registry.models import AlsfrsrAssessment, BiomarkerResult, Diagnosis, Patient
from tests.api.personas import ITEMS
from tests.factories import days_ago

pytestmark = pytest.mark.django_db


def _diagnosis(world) -> Diagnosis:
    return Diagnosis.objects.get(patient=world.london_patient)


def _diagnosis_url(world):
    return f"/api/v1/diagnoses/{world.london_patient.diagnosis.pk}/"


def test_an_update_without_a_reason_is_refused(world, client_for):
    response = client_for(world.clinician_london).patch(
        _diagnosis_url(world), {"svc_percent": "70.0", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    assert _diagnosis(world).version == 1


def test_an_update_without_a_version_is_refused(world, client_for):
    response = client_for(world.clinician_london).patch(
        _diagnosis_url(world), {"svc_percent": "70.0", "reason": "Transcription error"}, format="json"
    )
    assert response.status_code == 400
    assert "version" in response.json()


def test_an_update_with_reason_and_version_is_saved_and_audited(world, client_for):
    response = client_for(world.clinician_london).patch(
        _diagnosis_url(world), {"svc_percent": "70.0", "version": 1, "reason": "Transcription error"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert _diagnosis(world).history.first().history_change_reason == "Transcription error"


def test_the_reason_may_come_in_the_x_change_reason_header(world, client_for):
    response = client_for(world.clinician_london).patch(
        _diagnosis_url(world), {"svc_percent": "70.0", "version": 1}, format="json", HTTP_X_CHANGE_REASON="Typo"
    )
    assert response.status_code == 200
    assert world.london_patient.diagnosis.history.first().history_change_reason == "Typo"


def test_a_stale_version_is_refused_with_409_and_a_clear_message(world, client_for):
    client = client_for(world.clinician_london)
    client.patch(_diagnosis_url(world), {"svc_percent": "71.0", "version": 1, "reason": "First"}, format="json")
    second = {"svc_percent": "72.0", "version": 1, "reason": "Second"}
    response = client.patch(_diagnosis_url(world), second, format="json")
    assert response.status_code == 409
    assert "changed" in response.json()["detail"] and "reload" in response.json()["detail"]
    assert str(_diagnosis(world).svc_percent) == "71.0"


def test_an_identifying_field_cannot_be_moved_to_another_patient(world, client_for):
    response = client_for(world.data_manager).patch(
        _diagnosis_url(world),
        {"patient": world.sheffield_patient.study_id, "version": 1, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "patient" in response.json()


def test_model_validation_errors_come_back_as_400_per_field(world, client_for):
    payload = {"patient": world.london_patient.study_id, "assessment_date": days_ago(10).isoformat(), **ITEMS}
    payload["q5b_cutting_with_gastrostomy"] = 3  # both 5a and 5b scored
    response = client_for(world.clinician_london).post("/api/v1/alsfrs-r/", payload, format="json")
    assert response.status_code == 400
    assert not AlsfrsrAssessment.objects.exists()


def test_an_alsfrs_r_created_through_the_api_has_derived_scores(world, client_for):
    payload = {"patient": world.london_patient.study_id, "assessment_date": days_ago(10).isoformat(), **ITEMS}
    response = client_for(world.clinician_london).post("/api/v1/alsfrs-r/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["total"] == 39  # 4+4+3+3+3+3+3+2+2+4+4+4
    assert response.json()["version"] == 1


def test_a_biomarker_is_stored_in_its_canonical_unit(world, client_for):
    payload = {
        "patient": world.london_patient.study_id,
        "sample_date": days_ago(20).isoformat(),
        "analyte": "csf_pnfh",
        "reported_value": "1.5",
        "reported_unit": "ng/mL",
        "assay": "ProteinSimple Ella pNF-H",
    }
    response = client_for(world.clinician_london).post("/api/v1/biomarkers/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert BiomarkerResult.objects.get().unit == "pg/mL"
    assert float(BiomarkerResult.objects.get().value) == 1500.0


def test_a_patient_is_registered_with_diagnosis_and_consent(world, client_for):
    payload = {
        "site": "GB-LON",
        "sex": "male",
        "year_of_birth": 1960,
        "diagnosis": {
            "symptom_onset_date": days_ago(300).isoformat(),
            "onset_region": "bulbar",
            "diagnosis_date": days_ago(100).isoformat(),
            "el_escorial": "definite",
        },
        "consent": {"form_version": "v1.2", "consent_date": days_ago(10).isoformat()},
    }
    response = client_for(world.clinician_london).post("/api/v1/patients/", payload, format="json")
    assert response.status_code == 201, response.json()
    patient = Patient.objects.get(study_id=response.json()["study_id"])
    assert patient.diagnosis.onset_region == "bulbar" and patient.consents.count() == 1


def test_a_clinician_cannot_register_a_patient_at_another_site(world, client_for):
    payload = {"site": "GB-SHF", "sex": "male", "year_of_birth": 1960}
    response = client_for(world.clinician_london).post("/api/v1/patients/", payload, format="json")
    assert response.status_code == 400
    assert "site" in response.json()


def test_a_null_character_in_a_study_id_is_a_400_not_a_server_error(world, client_for):
    payload = {"patient": "GB-\x00LON", "event_type": "gastrostomy", "event_date": days_ago(3).isoformat()}
    response = client_for(world.clinician_london).post("/api/v1/events/", payload, format="json")
    assert response.status_code == 400
    assert "patient" in response.json()
