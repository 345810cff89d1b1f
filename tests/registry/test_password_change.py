"""Users change their own password; Django's validators decide what is strong enough."""

from __future__ import annotations

import pytest
from django.test import Client

from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.requirement("ACC-05"), pytest.mark.django_db]

OLD = "an old but long passphrase"
NEW = "Seven purple kestrels at dawn"


@pytest.fixture
def clinician():
    user = UserFactory(username="margaret.hughes", role=Role.CLINICIAN, sites=[SiteFactory()])
    user.set_password(OLD)
    user.save()
    return user


def change(client: Client, new: str, confirm: str | None = None):
    return client.post(
        "/accounts/password/", {"old_password": OLD, "new_password1": new, "new_password2": confirm or new}
    )


def test_a_weak_password_is_refused_with_each_reason_and_the_old_one_kept(client, clinician):
    login_with_second_factor(client, clinician)
    response = change(client, "12345678")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This password is too short. It must contain at least 12 characters." in page
    assert "This password is too common." in page
    assert "This password is entirely numeric." in page
    clinician.refresh_from_db()
    assert clinician.check_password(OLD)


def test_a_password_like_the_username_is_refused(client, clinician):
    login_with_second_factor(client, clinician)
    response = change(client, "margaret.hughes1")
    assert "The password is too similar to the username." in response.content.decode()


def test_a_strong_password_is_set_and_the_user_stays_signed_in(client, clinician):
    login_with_second_factor(client, clinician)
    response = change(client, NEW)
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    clinician.refresh_from_db()
    assert clinician.check_password(NEW)
    assert client.get("/patients/").status_code == 200


def test_changing_the_password_signs_out_the_users_other_sessions(client, clinician):
    other_device = Client()
    login_with_second_factor(other_device, clinician)
    login_with_second_factor(client, clinician)
    change(client, NEW)
    response = other_device.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
