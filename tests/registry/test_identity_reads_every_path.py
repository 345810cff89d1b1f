"""Identity reads are logged on every path (web, API, admin), and identity pages and downloads are never cached."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from registry.models import IdentityAccess, Role
from tests.conftest import login_with_second_factor
from tests.factories import BatchFactory, IdentityFactory, SiteFactory, UserFactory, api_key_for, treated_patient

pytestmark = [pytest.mark.requirement("ACC-04"), pytest.mark.django_db]


@pytest.fixture
def london_patient():
    patient = treated_patient(site=SiteFactory(code="GB-LON"))
    IdentityFactory(patient=patient)
    return patient


@pytest.fixture
def clinician(london_patient):
    return UserFactory(username="alice", role=Role.CLINICIAN, sites=[london_patient.site])


def test_an_identity_listed_through_the_api_is_logged(clinician, london_patient):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(clinician, scope='read')}")
    response = client.get("/api/v1/identities/")
    assert response.status_code == 200 and response.json()["results"]
    entry = IdentityAccess.objects.get()
    assert (entry.user, entry.patient, entry.channel) == (clinician, london_patient, "API")


def test_an_identity_read_one_by_one_through_the_api_is_logged(clinician, london_patient):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(clinician, scope='read')}")
    assert client.get(f"/api/v1/identities/{london_patient.identity.pk}/").status_code == 200
    assert IdentityAccess.objects.filter(user=clinician, patient=london_patient, channel="API").count() == 1


def test_an_identity_opened_in_the_admin_is_logged(london_patient):
    manager = UserFactory(username="erin", role=Role.DATA_MANAGER, is_staff=True)
    manager.user_permissions.set(Permission.objects.filter(content_type__app_label="registry"))
    client = Client()
    login_with_second_factor(client, manager)
    identity = london_patient.identity
    assert client.get(f"/admin/registry/patientidentity/{identity.pk}/change/").status_code == 200
    assert client.get(f"/admin/registry/patientidentity/{identity.pk}/history/").status_code == 200
    assert IdentityAccess.objects.filter(user=manager, patient=london_patient, channel="admin").count() == 2


def test_an_identity_page_is_never_cached(clinician, london_patient):
    client = Client()
    login_with_second_factor(client, clinician)
    response = client.get(f"/patients/{london_patient.study_id}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_an_api_response_to_a_token_is_never_cached(clinician):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(clinician, scope='read')}")
    assert "no-store" in client.get("/api/v1/identities/")["Cache-Control"]


def test_a_download_is_never_cached(london_patient):
    pharmacist = UserFactory(username="chloe", role=Role.PHARMACIST, sites=[london_patient.site])
    batch = BatchFactory()
    client = Client()
    login_with_second_factor(client, pharmacist)
    response = client.get(f"/pharmacy/batches/{batch.pk}/recipients.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]
