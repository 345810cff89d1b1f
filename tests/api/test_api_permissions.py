"""Who may read and write through the API: the web app's roles and site scoping, no more."""

from __future__ import annotations

import pytest

from registry.models import ClinicalEvent
from tests.conftest import login_with_second_factor
from tests.factories import api_key_for, days_ago

pytestmark = [pytest.mark.requirement("EXP-02"), pytest.mark.django_db]


def _event_payload(patient):
    return {"patient": patient.study_id, "event_type": "gastrostomy", "event_date": days_ago(3).isoformat()}


@pytest.mark.parametrize("url", ["/api/v1/", "/api/v1/patients/"])
def test_anonymous_requests_are_refused_with_401(world, client_for, url):
    response = client_for(None).get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_schema_needs_a_signed_in_user(world, client_for):
    assert client_for(None).get("/api/schema/").status_code == 401


def test_a_token_authenticates_api_requests(world, client_for):
    key = api_key_for(world.clinician_london)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/patients/")
    assert response.status_code == 200
    assert [p["study_id"] for p in response.json()["results"]] == [world.london_patient.study_id]


def test_a_session_authenticates_api_requests(world, client):
    login_with_second_factor(client, world.clinician_london)
    assert client.get("/api/v1/patients/").status_code == 200


def test_a_clinician_lists_only_their_sites_patients(world, client_for):
    response = client_for(world.clinician_sheffield).get("/api/v1/patients/")
    assert [p["study_id"] for p in response.json()["results"]] == [world.sheffield_patient.study_id]


def test_a_clinician_of_another_site_gets_404_for_a_patient(world, client_for):
    response = client_for(world.clinician_sheffield).get(f"/api/v1/patients/{world.london_patient.pk}/")
    assert response.status_code == 404


def test_a_clinician_of_another_site_gets_404_for_a_record(world, client_for):
    diagnosis = world.london_patient.diagnosis
    response = client_for(world.clinician_sheffield).get(f"/api/v1/diagnoses/{diagnosis.pk}/")
    assert response.status_code == 404


def test_a_clinician_of_another_site_cannot_update_a_record(world, client_for):
    diagnosis = world.london_patient.diagnosis
    response = client_for(world.clinician_sheffield).patch(
        f"/api/v1/diagnoses/{diagnosis.pk}/", {"svc_percent": "70.0", "version": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 404
    diagnosis.refresh_from_db()
    assert diagnosis.version == 1


def test_a_clinician_cannot_record_for_another_sites_patient(world, client_for):
    response = client_for(world.clinician_sheffield).post(
        "/api/v1/events/", _event_payload(world.london_patient), format="json"
    )
    assert response.status_code == 400
    assert "patient" in response.json()
    assert not ClinicalEvent.objects.exists()


def test_a_clinician_records_an_event_for_their_patient(world, client_for):
    response = client_for(world.clinician_london).post(
        "/api/v1/events/", _event_payload(world.london_patient), format="json"
    )
    assert response.status_code == 201
    assert ClinicalEvent.objects.get().history.get().history_user == world.clinician_london


def test_a_pharmacist_cannot_write_clinical_data(world, client_for):
    response = client_for(world.pharmacist_london).post(
        "/api/v1/events/", _event_payload(world.london_patient), format="json"
    )
    assert response.status_code == 403
    assert not ClinicalEvent.objects.exists()


def test_a_pharmacist_records_a_cycle(world, client_for):
    payload = {"patient": world.london_patient.study_id, "cycle_number": 1, "start_date": days_ago(84).isoformat()}
    response = client_for(world.pharmacist_london).post("/api/v1/cycles/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["total_dose_miu"] == "10.00"


def test_a_clinician_cannot_record_a_cycle(world, client_for):
    payload = {"patient": world.london_patient.study_id, "cycle_number": 1, "start_date": days_ago(84).isoformat()}
    assert client_for(world.clinician_london).post("/api/v1/cycles/", payload, format="json").status_code == 403


@pytest.mark.parametrize(
    ("url", "payload"),
    [
        ("/api/v1/events/", {"event_type": "gastrostomy"}),
        ("/api/v1/cycles/", {"cycle_number": 1}),
        ("/api/v1/batches/", {"batch_number": "X"}),
    ],
)
def test_analysts_are_read_only(world, client_for, url, payload):
    response = client_for(world.analyst).post(url, payload, format="json")
    assert response.status_code == 403
    assert not ClinicalEvent.objects.exists()


def test_analysts_cannot_update_records(world, client_for):
    diagnosis = world.london_patient.diagnosis
    response = client_for(world.analyst).patch(
        f"/api/v1/diagnoses/{diagnosis.pk}/", {"svc_percent": "70.0", "version": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 403


def test_analysts_read_every_sites_records(world, client_for):
    response = client_for(world.analyst).get("/api/v1/diagnoses/")
    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize("method", ["get", "post"])
def test_analysts_never_reach_identity(world, client_for, method):
    response = getattr(client_for(world.analyst), method)("/api/v1/identities/")
    assert response.status_code == 403


def test_analysts_never_reach_a_single_identity(world, client_for):
    identity = world.london_patient.identity
    assert client_for(world.analyst).get(f"/api/v1/identities/{identity.pk}/").status_code == 403


def test_a_clinician_sees_only_their_sites_identities(world, client_for):
    response = client_for(world.clinician_london).get("/api/v1/identities/")
    assert [i["patient"] for i in response.json()["results"]] == [world.london_patient.study_id]


def test_a_data_manager_writes_at_any_site(world, client_for):
    response = client_for(world.data_manager).post(
        "/api/v1/events/", _event_payload(world.sheffield_patient), format="json"
    )
    assert response.status_code == 201


def test_nothing_can_be_deleted_through_the_api(world, client_for):
    diagnosis = world.london_patient.diagnosis
    response = client_for(world.data_manager).delete(f"/api/v1/diagnoses/{diagnosis.pk}/")
    assert response.status_code == 405
