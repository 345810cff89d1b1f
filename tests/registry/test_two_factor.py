"""Two-factor authentication: available to everyone, required for data managers."""

from __future__ import annotations

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.requirement("ACC-02"), pytest.mark.django_db]


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def data_manager():
    return UserFactory(username="erin", role=Role.DATA_MANAGER, is_staff=True)


def test_a_data_manager_without_an_authenticator_must_set_one_up_first(client, data_manager):
    client.force_login(data_manager)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/setup/"


def test_setting_up_an_authenticator_with_a_valid_code_verifies_the_session(client, data_manager):
    client.force_login(data_manager)
    page = client.get("/accounts/2fa/setup/")
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=data_manager)
    response = client.post("/accounts/2fa/setup/", {"token": current_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_and_the_device_stays_unconfirmed(client, data_manager):
    client.force_login(data_manager)
    client.get("/accounts/2fa/setup/")
    response = client.post("/accounts/2fa/setup/", {"token": "000000"})
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=data_manager).confirmed


def test_a_clinician_who_enrolled_an_authenticator_must_enter_a_code_after_the_password(client):
    clinician = UserFactory(role=Role.CLINICIAN, sites=[SiteFactory()])
    device = TOTPDevice.objects.create(user=clinician, name="authenticator", confirmed=True)
    client.force_login(clinician)
    assert client.get("/admin/").url.startswith("/accounts/2fa/verify/")
    response = client.post("/accounts/2fa/verify/?next=/", {"token": current_code(device)})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_clinician_without_an_authenticator_is_not_forced_to_enrol(client):
    clinician = UserFactory(role=Role.CLINICIAN, sites=[SiteFactory()])
    client.force_login(clinician)
    response = client.get("/")
    assert "/accounts/2fa/" not in response.get("Location", "")


def test_a_verified_data_manager_reaches_the_admin(client, data_manager):
    login_with_second_factor(client, data_manager)
    assert client.get("/admin/").status_code == 200
