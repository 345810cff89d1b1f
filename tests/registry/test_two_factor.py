"""Two-factor authentication: required of everyone, on every path, and not re-enrolled with a password alone."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccountAction, AccountEvent, Role
from tests.conftest import login_with_second_factor
from tests.factories import IdentityFactory, PatientFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.requirement("ACC-02"), pytest.mark.django_db]


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def data_manager():
    return UserFactory(username="erin", role=Role.DATA_MANAGER, is_staff=True)


@pytest.fixture
def clinician():
    return UserFactory(username="alice", role=Role.CLINICIAN, sites=[SiteFactory(code="GB-LON")])


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def password_only(user) -> Client:
    """A session that has passed the password step and nothing else."""
    client = Client()
    client.force_login(user)
    return client


def enrol_new_device(client: Client, user, **extra: str):
    client.get("/accounts/2fa/setup/")
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    return pending, client.post("/accounts/2fa/setup/", {"token": current_code(pending), **extra})


# --- every session needs its second factor, on every path


def test_a_clinician_without_an_authenticator_is_sent_to_enrol_before_any_page(clinician):
    response = password_only(clinician).get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/setup/"


def test_a_data_manager_without_an_authenticator_must_set_one_up_before_the_admin(data_manager):
    response = password_only(data_manager).get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/setup/"


def test_a_user_with_an_authenticator_must_enter_a_code_after_the_password(clinician):
    device = enrolled(clinician)
    client = password_only(clinician)
    assert client.get("/patients/").url.startswith("/accounts/2fa/verify/")
    response = client.post("/accounts/2fa/verify/?next=/patients/", {"token": current_code(device)})
    assert response.status_code == 302
    assert response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/identities/", "/api/v1/patients/", "/api/"])
def test_the_api_refuses_a_session_that_has_only_passed_the_password(clinician, path):
    enrolled(clinician)
    IdentityFactory(patient=PatientFactory(site=clinician.sites.get()))
    response = password_only(clinician).get(path)
    assert response.status_code == 403
    assert "second factor" in response.json()["detail"]


def test_the_api_refuses_a_write_from_a_session_that_has_only_passed_the_password(clinician):
    enrolled(clinician)
    patient = PatientFactory(site=clinician.sites.get())
    response = password_only(clinician).patch(
        f"/api/v1/patients/{patient.study_id}/", {"sex": "male"}, content_type="application/json"
    )
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.sex == "female"


def test_the_api_serves_a_verified_session(clinician):
    client = Client()
    login_with_second_factor(client, clinician)
    assert client.get("/api/v1/patients/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/admin/", "/analytics/overview/", "/data/import/", "/pharmacy/batches/", "/accounts/password/"]
)
def test_admin_downloads_and_account_pages_refuse_an_unverified_session(data_manager, path):
    enrolled(data_manager)
    response = password_only(data_manager).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/verify/")


def test_signing_out_needs_no_second_factor(clinician):
    enrolled(clinician)
    response = password_only(clinician).post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


# --- enrolment


def test_enrolment_shows_the_qr_code_and_the_manual_key_in_base32(clinician):
    page = password_only(clinician).get("/accounts/2fa/setup/").content.decode()
    device = TOTPDevice.objects.get(user=clinician)
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    assert "<svg" in page
    assert " ".join(key[i : i + 4] for i in range(0, len(key), 4)) in page
    assert device.key not in page  # the hex form, which authenticator apps do not take


def test_a_first_authenticator_confirmed_with_its_code_verifies_the_session_and_shows_recovery_codes_once(clinician):
    client = password_only(clinician)
    device, response = enrol_new_device(client, clinician)
    assert response.status_code == 200
    codes = [token.token for token in StaticToken.objects.filter(device__user=clinician)]
    assert len(codes) == 10
    page = response.content.decode()
    assert all(code in page for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/patients/").status_code == 200
    assert not any(code in client.get("/accounts/2fa/setup/").content.decode() for code in codes)


def test_enrolment_is_recorded_as_an_account_event(clinician):
    enrol_new_device(password_only(clinician), clinician)
    event = AccountEvent.objects.get(subject=clinician, action=AccountAction.SECOND_FACTOR_ENROLLED)
    assert event.actor == clinician


def test_a_wrong_code_is_refused_and_the_device_stays_unconfirmed(data_manager):
    client = password_only(data_manager)
    client.get("/accounts/2fa/setup/")
    response = client.post("/accounts/2fa/setup/", {"token": "000000"})
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=data_manager).confirmed


def test_the_password_alone_cannot_enrol_a_new_authenticator_for_a_user_who_has_one(clinician):
    original = enrolled(clinician)
    client = password_only(clinician)
    pending, response = enrol_new_device(client, clinician)
    assert "current authenticator" in response.content.decode()
    pending.refresh_from_db()
    assert not pending.confirmed
    assert list(TOTPDevice.objects.filter(user=clinician, confirmed=True)) == [original]
    assert client.get("/patients/").status_code == 302


def test_a_wrong_current_code_does_not_replace_the_authenticator(clinician):
    original = enrolled(clinician)
    client = Client()
    login_with_second_factor(client, clinician)
    _pending, response = enrol_new_device(client, clinician, current="123456")
    assert "not a current code" in response.content.decode()
    assert list(TOTPDevice.objects.filter(user=clinician, confirmed=True)) == [original]


def test_the_current_code_replaces_the_authenticator_and_the_old_one_stops_working(clinician):
    original = enrolled(clinician)
    client = Client()
    login_with_second_factor(client, clinician)
    pending, response = enrol_new_device(client, clinician, current=current_code(original))
    assert response.status_code == 200
    assert list(TOTPDevice.objects.filter(user=clinician, confirmed=True)) == [pending]
    assert AccountEvent.objects.filter(subject=clinician, action=AccountAction.SECOND_FACTOR_REPLACED).exists()


def test_a_recovery_code_replaces_a_lost_authenticator(clinician):
    enrol_new_device(password_only(clinician), clinician)
    recovery = StaticToken.objects.filter(device__user=clinician).first().token
    client = password_only(clinician)
    pending, response = enrol_new_device(client, clinician, current=recovery)
    assert response.status_code == 200
    assert list(TOTPDevice.objects.filter(user=clinician, confirmed=True)) == [pending]
    assert client.get("/patients/").status_code == 200


# --- recovery codes


def test_a_recovery_code_signs_in_once(clinician):
    enrol_new_device(password_only(clinician), clinician)
    recovery = StaticToken.objects.filter(device__user=clinician).first().token
    first = password_only(clinician)
    assert first.post("/accounts/2fa/verify/", {"token": recovery}).status_code == 302
    assert first.get("/patients/").status_code == 200
    second = password_only(clinician)
    response = second.post("/accounts/2fa/verify/", {"token": recovery})
    assert "already been used" in response.content.decode()
    assert second.get("/patients/").status_code == 302


def test_a_verified_data_manager_reaches_the_admin(client, data_manager):
    login_with_second_factor(client, data_manager)
    assert client.get("/admin/").status_code == 200
