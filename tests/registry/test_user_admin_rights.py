"""Only a superuser changes users in the admin: a data manager cannot raise anyone's rights, their own included."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from registry.models import AccountAction, AccountEvent, Role, User
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.requirement("ACC-01"), pytest.mark.django_db]


@pytest.fixture
def data_manager():
    user = UserFactory(username="erin", role=Role.DATA_MANAGER, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["registry", "access_programme"]))
    return user


def admin_client(user: User) -> Client:
    client = Client()
    login_with_second_factor(client, user)
    return client


def user_form(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "role": user.role,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update({key: value for key, value in changes.items() if value is not None})
    return data


def test_a_data_manager_cannot_make_themself_a_superuser(data_manager):
    client = admin_client(data_manager)
    response = client.post(
        f"/admin/registry/user/{data_manager.pk}/change/", user_form(data_manager, is_superuser="on", is_staff="on")
    )
    assert response.status_code == 403
    data_manager.refresh_from_db()
    assert not data_manager.is_superuser


def test_a_data_manager_cannot_add_a_user_nor_set_a_password(data_manager):
    clinician = UserFactory(role=Role.CLINICIAN)
    client = admin_client(data_manager)
    assert client.get("/admin/registry/user/add/").status_code == 403
    response = client.post(
        f"/admin/registry/user/{clinician.pk}/password/", {"password1": "x" * 20, "password2": "x" * 20}
    )
    assert response.status_code == 403


def test_a_data_manager_may_still_look_at_the_users(data_manager):
    assert admin_client(data_manager).get("/admin/registry/user/").status_code == 200


def test_a_superuser_changes_a_role_and_the_change_is_audited():
    superuser = UserFactory(username="root", role=Role.DATA_MANAGER, is_staff=True, is_superuser=True)
    clinician = UserFactory(username="bob", role=Role.CLINICIAN, sites=[SiteFactory()])
    response = admin_client(superuser).post(
        f"/admin/registry/user/{clinician.pk}/change/",
        user_form(clinician, role=Role.PHARMACIST, sites=[clinician.sites.get().pk]),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    clinician.refresh_from_db()
    assert clinician.role == Role.PHARMACIST
    event = AccountEvent.objects.get(subject=clinician, action=AccountAction.USER_CHANGED)
    assert event.actor == superuser and "role=pharmacist" in event.detail
