"""API tokens: one's own, created after the second factor, named, scoped, expiring, revocable, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from registry.models import AccountAction, AccountEvent, ApiToken, Role
from registry.services.accounts import api_token_revoke
from tests.conftest import login_with_second_factor
from tests.factories import TODAY, SiteFactory, UserFactory, api_key_for, treated_patient

pytestmark = [pytest.mark.requirement("ACC-02"), pytest.mark.django_db]


@pytest.fixture
def clinician():
    return UserFactory(username="alice", role=Role.CLINICIAN, sites=[SiteFactory(code="GB-LON")])


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def create_on_page(client: Client, **fields: str):
    data = {"name": "R script", "scope": "read", "expires_on": (TODAY + dt.timedelta(days=30)).isoformat(), **fields}
    return client.post("/accounts/tokens/", data)


def test_a_verified_user_creates_a_token_for_themself_and_sees_the_key_once(clinician):
    client = Client()
    login_with_second_factor(client, clinician)
    page = create_on_page(client).content.decode()
    token = ApiToken.objects.get(user=clinician)
    assert token.name == "R script" and token.scope == "read"
    assert "shown only once" in page
    key = page.split('<code class="secret">')[1].split("</code>")[0]
    assert api(key).get("/api/v1/patients/").status_code == 200
    assert key not in client.get("/accounts/tokens/").content.decode()
    assert token.key_hash != key and key not in str(ApiToken.objects.values_list().get())  # only a hash is kept


def test_a_session_past_the_password_alone_cannot_create_a_token(clinician):
    client = Client()
    client.force_login(clinician)
    response = create_on_page(client)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    assert not ApiToken.objects.exists()


def correct_svc(key: str, diagnosis):
    return api(key).patch(
        f"/api/v1/diagnoses/{diagnosis.pk}/",
        {"svc_percent": "71.0", "version": diagnosis.version, "reason": "Transcription error"},
        format="json",
    )


def test_a_read_token_cannot_write(clinician):
    diagnosis = treated_patient(site=clinician.sites.get()).diagnosis
    response = correct_svc(api_key_for(clinician, scope="read"), diagnosis)
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    diagnosis.refresh_from_db()
    assert diagnosis.version == 1


def test_a_write_token_writes_as_its_user(clinician):
    diagnosis = treated_patient(site=clinician.sites.get()).diagnosis
    assert correct_svc(api_key_for(clinician, scope="write"), diagnosis).status_code == 200
    assert diagnosis.history.latest().history_user == clinician


def test_an_expired_token_is_refused(clinician):
    key = api_key_for(clinician)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api(key).get("/api/v1/patients/").status_code == 401


def test_a_revoked_token_is_refused_and_the_revocation_audited(clinician):
    key = api_key_for(clinician)
    client = Client()
    login_with_second_factor(client, clinician)
    token = ApiToken.objects.get(user=clinician)
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert api(key).get("/api/v1/patients/").status_code == 401
    assert AccountEvent.objects.filter(subject=clinician, action=AccountAction.TOKEN_REVOKED, actor=clinician).exists()


def test_the_last_use_of_a_token_is_recorded(clinician):
    key = api_key_for(clinician)
    assert ApiToken.objects.get().last_used_at is None
    api(key).get("/api/v1/patients/")
    assert ApiToken.objects.get().last_used_at is not None


def test_creating_a_token_is_audited(clinician):
    api_key_for(clinician)
    event = AccountEvent.objects.get(action=AccountAction.TOKEN_CREATED)
    assert event.actor == event.subject == clinician


def test_an_expiry_beyond_a_year_is_refused_with_a_message(clinician):
    client = Client()
    login_with_second_factor(client, clinician)
    page = create_on_page(client, expires_on=(TODAY + dt.timedelta(days=400)).isoformat()).content.decode()
    assert "within 365 days" in page
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_users_token_but_a_superuser(clinician):
    api_key_for(clinician)
    token = ApiToken.objects.get()
    other = UserFactory(role=Role.DATA_MANAGER, is_staff=True)
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=other, token=token)
    client = Client()
    login_with_second_factor(client, other)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_admin_offers_no_way_to_create_tokens_for_others():
    manager = UserFactory(role=Role.DATA_MANAGER, is_staff=True, is_superuser=True)
    client = Client()
    login_with_second_factor(client, manager)
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 404
    assert client.get("/admin/registry/apitoken/add/").status_code == 404
