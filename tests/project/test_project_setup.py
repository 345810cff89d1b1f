"""The project's set-up promises: migrations complete, production settings deploy-clean, compose stack whole."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_python("manage.py", *args, env=env, check=False)


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-real-secret-" + "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "registry.example.nhs.uk",
    "FIELD_ENCRYPTION_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "IDENTIFIER_HASH_KEY": "another-real-secret",
}


def test_production_settings_pass_the_deployment_checklist():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = run_manage("check", **{**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": ""})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_readme_quick_start_is_exactly_make_demo_then_make_test():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in quick_start.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
