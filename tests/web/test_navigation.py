"""The navigation offers each role only the pages it may open."""

from __future__ import annotations

import re

import pytest

from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NAV = re.compile(r"<nav\b.*?</nav>", re.S)
LINK = re.compile(r'href="([^"#]+)"')


def nav_links(client) -> list[str]:
    page = client.get("/", follow=True)
    assert page.status_code == 200
    nav = NAV.search(page.content.decode())
    assert nav is not None
    return LINK.findall(nav.group(0))


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.PHARMACIST, Role.ANALYST, Role.DATA_MANAGER])
def test_every_link_in_the_navigation_opens_for_that_role(client, london, role):
    user = UserFactory(role=role, sites=[london], is_staff=role == Role.DATA_MANAGER)
    login_with_second_factor(client, user)
    links = nav_links(client)
    assert links
    refused = {link: client.get(link).status_code for link in links}
    assert {link: status for link, status in refused.items() if status != 200} == {}


def test_only_data_managers_are_offered_the_cohort_import(client, london):
    analyst = UserFactory(role=Role.ANALYST)
    login_with_second_factor(client, analyst)
    assert "/data/" not in nav_links(client)
    login_with_second_factor(client, UserFactory(role=Role.DATA_MANAGER, is_staff=True))
    assert "/data/" in nav_links(client)
