"""The code version: baked into the image at build, read from git outside one, reported by the app."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from analytics.survival.services import library_versions
from registry.version import code_version

pytestmark = pytest.mark.requirement("OPS-01")

ROOT = Path(__file__).resolve().parents[2]
BAKED = "0123456789abcdef0123456789abcdef01234567"


def test_the_version_baked_into_the_image_is_the_one_reported(settings):
    settings.CODE_VERSION = BAKED  # REGISTRY_CODE_VERSION, set from the GIT_SHA build argument
    assert code_version() == BAKED


def test_outside_an_image_the_version_is_the_git_commit(settings):
    settings.CODE_VERSION = ""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert code_version() == head.stdout.strip()


def test_analyses_record_the_version_the_image_was_built_from(settings):
    settings.CODE_VERSION = BAKED
    assert library_versions()["registry"] == BAKED


@pytest.mark.django_db
def test_the_health_check_reports_the_baked_in_version(client, settings):
    settings.CODE_VERSION = BAKED
    assert client.get("/healthz").json()["version"] == BAKED
