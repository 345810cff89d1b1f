"""Sessions end after 30 minutes without a request; activity keeps them alive."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session

from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.requirement("ACC-05"), pytest.mark.django_db]

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clinician():
    return UserFactory(role=Role.CLINICIAN, sites=[SiteFactory()])


def _signed_in(response) -> bool:
    return response.status_code == 200


def test_a_session_idle_for_thirty_minutes_is_signed_out(client, clinician):
    with time_machine.travel(START, tick=False) as clock:
        login_with_second_factor(client, clinician)
        assert _signed_in(client.get("/patients/"))
        clock.shift(dt.timedelta(minutes=30, seconds=1))
        response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_session_in_use_outlives_thirty_minutes(client, clinician):
    with time_machine.travel(START, tick=False) as clock:
        login_with_second_factor(client, clinician)
        for _ in range(6):  # a request every 10 minutes for an hour
            clock.shift(dt.timedelta(minutes=10))
            assert _signed_in(client.get("/patients/"))


def test_an_idle_session_ends_no_earlier_than_twenty_nine_minutes_after_the_last_request(client, clinician):
    with time_machine.travel(START, tick=False) as clock:
        login_with_second_factor(client, clinician)
        client.get("/patients/")
        clock.shift(dt.timedelta(seconds=59))
        client.get("/patients/")  # within the refresh interval: the expiry is not moved
        clock.shift(dt.timedelta(minutes=29))
        assert _signed_in(client.get("/patients/"))


def test_requests_within_a_minute_do_not_rewrite_the_session(client, clinician):
    with time_machine.travel(START, tick=False) as clock:
        login_with_second_factor(client, clinician)
        client.get("/patients/")
        expiry = Session.objects.get().expire_date
        clock.shift(dt.timedelta(seconds=30))
        client.get("/patients/")
        assert Session.objects.get().expire_date == expiry
        clock.shift(dt.timedelta(seconds=31))
        client.get("/patients/")
        assert Session.objects.get().expire_date == expiry + dt.timedelta(seconds=61)


def test_an_unknown_session_cookie_creates_no_session(client):
    client.cookies["sessionid"] = "not-a-session-key"
    client.get("/accounts/login/")
    assert not Session.objects.exists()
