"""The data managers' admin: edits need a reason and are audited; clinical rows cannot be deleted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from registry.models import Diagnosis, Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_manager_client(client):
    user = UserFactory(username="erin", role=Role.DATA_MANAGER, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["registry", "access_programme"]))
    login_with_second_factor(client, user)
    return client, user


def diagnosis_form(diagnosis: Diagnosis, **changes: str) -> dict[str, str]:
    assert diagnosis.riluzole_start_date is not None  # DiagnosisFactory sets it
    data = {
        "patient": str(diagnosis.patient_id),
        "symptom_onset_date": diagnosis.symptom_onset_date.isoformat(),
        "onset_region": diagnosis.onset_region,
        "diagnosis_date": diagnosis.diagnosis_date.isoformat(),
        "el_escorial": diagnosis.el_escorial,
        "riluzole_start_date": diagnosis.riluzole_start_date.isoformat(),
        "svc_percent": str(diagnosis.svc_percent),
        "fvc_percent": str(diagnosis.fvc_percent),
        "weight_kg": "",
        "c9orf72": "",
        "ftd": "",
        "change_reason": "",
    }
    return {**data, **changes}


def test_an_admin_edit_without_a_reason_is_refused(data_manager_client):
    client, _ = data_manager_client
    diagnosis = treated_patient().diagnosis
    response = client.post(
        f"/admin/registry/diagnosis/{diagnosis.pk}/change/", diagnosis_form(diagnosis, onset_region="bulbar")
    )
    assert response.status_code == 200
    assert "A reason for change is required to edit clinical data." in response.content.decode()
    assert Diagnosis.objects.get(pk=diagnosis.pk).onset_region == "lower_limb"


def test_an_admin_edit_with_a_reason_is_saved_and_audited(data_manager_client):
    client, user = data_manager_client
    diagnosis = treated_patient().diagnosis
    response = client.post(
        f"/admin/registry/diagnosis/{diagnosis.pk}/change/",
        diagnosis_form(diagnosis, onset_region="bulbar", change_reason="Neurology letter 3 Nov"),
    )
    assert response.status_code == 302
    latest = diagnosis.history.first()
    assert (latest.onset_region, latest.history_user, latest.history_change_reason) == (
        "bulbar",
        user,
        "Neurology letter 3 Nov",
    )


def test_the_admin_shows_a_records_history(data_manager_client):
    client, _ = data_manager_client
    diagnosis = treated_patient().diagnosis
    response = client.get(f"/admin/registry/diagnosis/{diagnosis.pk}/history/")
    assert response.status_code == 200
    assert "Created" in response.content.decode()


def test_clinical_records_cannot_be_deleted_in_the_admin(data_manager_client):
    client, _ = data_manager_client
    diagnosis = treated_patient().diagnosis
    response = client.post(f"/admin/registry/diagnosis/{diagnosis.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Diagnosis.objects.filter(pk=diagnosis.pk).exists()
