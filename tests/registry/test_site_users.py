"""Site leads manage their own sites' users without the admin, up to their own role; every change audited."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccountAction, AccountEvent, Role, User
from registry.services.users import second_factor_reset, user_invite, user_role_grant
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.requirement("ACC-01"), pytest.mark.django_db]

PASSWORD = "a long enough passphrase 42"


@pytest.fixture
def london():
    return SiteFactory(code="GB-LON")


@pytest.fixture
def sheffield():
    return SiteFactory(code="GB-SHF")


@pytest.fixture
def lead(london):
    return UserFactory(username="lead", role=Role.CLINICIAN, is_site_lead=True, sites=[london])


@pytest.fixture
def pharmacist_lead(london):
    return UserFactory(username="plead", role=Role.PHARMACIST, is_site_lead=True, sites=[london])


def signed_in(user) -> Client:
    client = Client()
    login_with_second_factor(client, user)
    return client


def invite(client: Client, site, **fields: str):
    data = {
        "username": "newbie",
        "first_name": "New",
        "last_name": "Nurse",
        "email": "new@example.org",
        "role": Role.CLINICIAN,
        "site": str(site.pk),
        **fields,
    }
    return client.post("/accounts/site-users/", data)


def shown_link(response) -> str:
    found = re.search(r"http://testserver(/accounts/2fa/link/[^/]+/)", response.content.decode())
    assert found is not None, "the page shows the one-time link"
    return found.group(1)


def code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def test_a_site_lead_invites_a_user_to_their_site_who_sets_a_password_and_enrols_through_the_link(lead, london):
    response = invite(signed_in(lead), london)
    newbie = User.objects.get(username="newbie")
    assert newbie.role == Role.CLINICIAN and list(newbie.sites.all()) == [london]
    assert not newbie.has_usable_password()
    assert AccountEvent.objects.get(subject=newbie, action=AccountAction.USER_INVITED).actor == lead

    visitor = Client()
    link = shown_link(response)
    answer = visitor.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert answer["Location"] == "/accounts/2fa/setup/"
    visitor.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=newbie)
    assert visitor.post("/accounts/2fa/setup/", {"token": code(device)}).status_code == 200
    assert visitor.get("/patients/").status_code == 200
    assert Client().get(link).status_code == 404  # used up


def test_a_site_lead_cannot_grant_a_role_above_their_own(pharmacist_lead, london):
    response = invite(signed_in(pharmacist_lead), london, role=Role.CLINICIAN)
    assert "not one of the available choices" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    with pytest.raises(PermissionDenied):
        user_invite(
            actor=pharmacist_lead, site=london, username="x", first_name="X", last_name="Y", email="", role="clinician"
        )


def test_a_site_lead_cannot_grant_data_manager_or_analyst(lead, london):
    for role in (Role.DATA_MANAGER, Role.ANALYST):
        with pytest.raises(PermissionDenied):
            user_invite(
                actor=lead, site=london, username=f"u{role}", first_name="A", last_name="B", email="", role=role
            )


def test_a_site_lead_cannot_invite_to_another_site(lead, sheffield):
    invite(signed_in(lead), sheffield)
    assert not User.objects.filter(username="newbie").exists()


def test_someone_who_is_not_a_site_lead_is_refused_the_page(london):
    clinician = UserFactory(role=Role.CLINICIAN, sites=[london])
    assert signed_in(clinician).get("/accounts/site-users/").status_code == 403


def test_a_site_lead_deactivates_a_user_of_their_site_and_it_is_audited(lead, london):
    nurse = UserFactory(username="nurse", role=Role.CLINICIAN, sites=[london])
    nurse_session = signed_in(nurse)
    signed_in(lead).post(f"/accounts/site-users/{nurse.pk}/deactivate/", {"reason": "left the trust"})
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert nurse_session.get("/patients/").status_code == 302  # signed out
    event = AccountEvent.objects.get(subject=nurse, action=AccountAction.USER_DEACTIVATED)
    assert event.actor == lead and event.detail == "left the trust"


def test_a_site_lead_cannot_manage_a_user_of_another_site_or_above_their_role(lead, london, sheffield):
    elsewhere = UserFactory(role=Role.CLINICIAN, sites=[sheffield])
    manager = UserFactory(role=Role.DATA_MANAGER, sites=[london])
    client = signed_in(lead)
    assert client.post(f"/accounts/site-users/{elsewhere.pk}/deactivate/", {"reason": "x"}).status_code == 404
    assert client.post(f"/accounts/site-users/{manager.pk}/deactivate/", {"reason": "x"}).status_code == 403
    assert User.objects.get(pk=elsewhere.pk).is_active and User.objects.get(pk=manager.pk).is_active


def test_a_site_lead_changes_a_role_within_their_own_and_it_is_audited(lead, london):
    nurse = UserFactory(username="nurse", role=Role.CLINICIAN, sites=[london])
    user_role_grant(actor=lead, user=nurse, role=Role.PHARMACIST)
    assert User.objects.get(pk=nurse.pk).role == Role.PHARMACIST
    assert (
        AccountEvent.objects.get(subject=nurse, action=AccountAction.ROLE_GRANTED).detail == "clinician -> pharmacist"
    )
    with pytest.raises(PermissionDenied):
        user_role_grant(actor=lead, user=nurse, role=Role.DATA_MANAGER)


def test_a_site_lead_cannot_change_their_own_role(lead):
    with pytest.raises(PermissionDenied):
        user_role_grant(actor=lead, user=lead, role=Role.PHARMACIST)


def test_a_second_factor_reset_forces_re_enrolment_through_the_one_time_link(lead, london):
    nurse = UserFactory(username="nurse", role=Role.CLINICIAN, sites=[london])
    nurse.set_password(PASSWORD)
    nurse.save()
    TOTPDevice.objects.create(user=nurse, name="authenticator", confirmed=True)
    response = signed_in(lead).post(f"/accounts/site-users/{nurse.pk}/reset-2fa/")
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert AccountEvent.objects.get(subject=nurse, action=AccountAction.SECOND_FACTOR_RESET).actor == lead

    password_only = Client()
    password_only.post("/accounts/login/", {"username": "nurse", "password": PASSWORD})
    assert password_only.get("/accounts/2fa/setup/").status_code == 403  # not with the password alone
    assert not TOTPDevice.objects.filter(user=nurse).exists()

    via_link = Client()
    assert via_link.post(shown_link(response), {"password": PASSWORD})["Location"] == "/accounts/2fa/setup/"
    via_link.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=nurse)
    assert via_link.post("/accounts/2fa/setup/", {"token": code(device)}).status_code == 200
    assert via_link.get("/patients/").status_code == 200


def test_a_reset_link_asks_for_the_current_password(lead, london):
    nurse = UserFactory(username="nurse", role=Role.CLINICIAN, sites=[london])
    nurse.set_password(PASSWORD)
    nurse.save()
    key = second_factor_reset(actor=lead, user=nurse)
    response = Client().post(f"/accounts/2fa/link/{key}/", {"password": "wrong password"})
    assert "not right" in response.content.decode()
