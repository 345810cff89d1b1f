"""consent-withdrawals/: withdrawals are created through `consent_withdraw` (who took it recorded),
only escalate, are corrected by a new record, and are never changed or deleted."""

from __future__ import annotations

import pytest

from registry import services
from registry.models import Consent, ConsentWithdrawal
from tests.factories import days_ago

pytestmark = pytest.mark.django_db

URL = "/api/v1/consent-withdrawals/"


@pytest.fixture
def consented(world):
    patient = world.london_patient
    services.audited_save(Consent(patient=patient, form_version="v1", consent_date=days_ago(90)), actor=None)
    return patient


def body(patient, level: str, days: int, **more) -> dict:
    return {"patient": patient.study_id, "level": level, "effective_on": days_ago(days).isoformat(), **more}


def test_a_withdrawal_posted_is_recorded_with_who_took_it(world, client_for, consented):
    api = client_for(world.clinician_london)
    response = api.post(URL, body(consented, "no_further_collection", 5, reason="Moving abroad"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["recorded_by"] == "clin_lon"
    withdrawal = ConsentWithdrawal.objects.get()
    assert (withdrawal.level, withdrawal.recorded_by) == ("no_further_collection", world.clinician_london)


def test_a_lower_level_after_a_higher_one_is_refused_with_the_rule(world, client_for, consented):
    api = client_for(world.clinician_london)
    api.post(URL, body(consented, "no_data_use", 10, reason="Patient's wish"), format="json")
    response = api.post(URL, body(consented, "treatment_only", 5, reason="Patient's wish"), format="json")
    assert response.status_code == 400
    assert "can only escalate" in response.json()["level"][0]
    assert ConsentWithdrawal.objects.count() == 1


def test_a_wrong_entry_is_corrected_by_posting_a_correction(world, client_for, consented):
    api = client_for(world.clinician_london)
    wrong = api.post(URL, body(consented, "no_data_use", 10, reason="Patient's wish"), format="json").json()
    correction = body(consented, "treatment_only", 10, reason="Wrong level ticked", corrects=wrong["id"])
    assert api.post(URL, correction, format="json").status_code == 201
    listed = api.get(URL, {"patient": consented.study_id}).json()["results"]
    assert [(w["level"], w["corrects"]) for w in listed] == [("no_data_use", None), ("treatment_only", wrong["id"])]


def test_a_withdrawal_cannot_be_changed(world, client_for, consented):
    api = client_for(world.data_manager)
    created = api.post(URL, body(consented, "no_data_use", 10, reason="Patient's wish"), format="json").json()
    response = api.patch(f"{URL}{created['id']}/", {"level": "treatment_only"}, format="json")
    assert response.status_code == 405
    assert ConsentWithdrawal.objects.get().level == "no_data_use"
