"""Friendly error pages for people, JSON for API clients, and a demo that never shows Django's
debug pages (which list the URLconf)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from config import urls
from registry.models import Role
from tests.conftest import login_with_second_factor, program_environment
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_an_unknown_page_gets_the_registrys_404_page(client):
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in page and "Go to the start page" in page


def test_a_refused_page_explains_itself_on_the_403_page():
    client = Client()
    login_with_second_factor(
        client, UserFactory(username="cli", role=Role.CLINICIAN, sites=[SiteFactory(code="GB-LON")])
    )
    response = client.get("/analytics/overview/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "You may not open this page" in page and "The overview is for analysts and data managers." in page


def test_a_server_error_on_a_web_page_gets_the_friendly_500_page():
    response = urls.server_error(RequestFactory().get("/patients/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_a_server_error_on_the_api_answers_json():
    response = urls.server_error(RequestFactory().get("/api/v1/patients/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"


def test_an_expired_form_gets_the_friendly_csrf_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403 and "This form has expired" in response.content.decode()


def test_the_demo_settings_run_with_debug_off():
    env = program_environment(DJANGO_SETTINGS_MODULE="config.settings.base")  # no DJANGO_DEBUG, whatever the shell has
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
