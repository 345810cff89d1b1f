"""The API's token authentication is covered by lockout, and the API is rate limited."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from registry.models import Role
from tests.factories import UserFactory, api_key_for

pytestmark = [pytest.mark.requirement("ACC-06"), pytest.mark.django_db]
URL = "/api/v1/sites/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def test_repeated_bad_tokens_lock_the_address_out_even_for_a_valid_token(settings):
    settings.AXES_FAILURE_LIMIT = 3
    good = api_key_for(UserFactory(role=Role.ANALYST))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert [client.get(URL).status_code for _ in range(3)] == [401, 401, 429]  # the third failure locks
    client.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    response = client.get(URL)
    assert response.status_code == 429
    assert "Too many failed authentication attempts" in response.json()["detail"]


def test_a_valid_token_works_before_any_lockout():
    token = api_key_for(UserFactory(role=Role.ANALYST))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(URL).status_code == 200


def test_a_user_over_the_rate_limit_is_told_to_slow_down(monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/minute"})
    token = api_key_for(UserFactory(role=Role.ANALYST))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    statuses = [client.get(URL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
