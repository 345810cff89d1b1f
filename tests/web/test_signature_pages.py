"""The signing pages ask for the user ID on a session's first signing only; unlocking is for data managers."""

from __future__ import annotations

import pytest
from django.test import Client

from registry.models import Signature
from tests.conftest import login_with_second_factor
from tests.factories import treated_patient

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def investigator(clinician):
    clinician.set_password(PASSWORD)
    clinician.save()
    return clinician


def test_the_first_signing_asks_for_the_user_id_and_the_next_does_not(investigator, london):
    client = Client()
    login_with_second_factor(client, investigator)
    patient = treated_patient(site=london)
    page = client.get(f"/patients/{patient.study_id}/sign/")
    assert "user_id" in page.context["form"].fields
    response = client.post(
        f"/patients/{patient.study_id}/sign/", {"meaning": "approval", "user_id": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302 and Signature.objects.count() == 1
    other = treated_patient(site=london)
    assert "user_id" not in client.get(f"/patients/{other.study_id}/sign/").context["form"].fields


def test_a_pharmacist_may_not_open_the_signing_page(pharmacist, london):
    client = Client()
    login_with_second_factor(client, pharmacist)
    assert client.get(f"/patients/{treated_patient(site=london).study_id}/sign/").status_code == 403


def test_a_wrong_password_shows_a_message_and_signs_nothing(investigator, london):
    client = Client()
    login_with_second_factor(client, investigator)
    patient = treated_patient(site=london)
    response = client.post(
        f"/patients/{patient.study_id}/sign/", {"meaning": "approval", "user_id": "alice", "password": "nope"}
    )
    assert response.status_code == 200 and "nothing was signed" in response.content.decode()
    assert not Signature.objects.exists()
