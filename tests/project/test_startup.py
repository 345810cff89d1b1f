"""Start-up stays light: no program imports the heavy numerical libraries until it uses them.

pandas, numpy, lifelines, matplotlib, pyarrow, pyreadstat, weasyprint and scipy cost about 2 s
and 200 MB before a process does anything (docs/benchmarks.md, "Start-up"); every `manage.py`
command, web worker and Celery worker would pay that at start. The modules that URL confs,
admin, apps, models, tasks and commands import at start import them inside the functions that
use them. Each program below starts in a fresh interpreter and reports which of them it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import program_environment

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "lifelines", "matplotlib", "pyarrow", "pyreadstat", "weasyprint", "scipy")

REPORT = f"import json, sys; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"

PROGRAMS = {
    # What a web worker loads before its first request: apps, models, admin (autodiscovered in
    # setup) and every URL conf with its views.
    "web": "import django; django.setup(); from django.urls import get_resolver; get_resolver().url_patterns",
    # `manage.py check`: the system checks, which load the URL confs too.
    "check": "import django; django.setup(); from django.core.management import call_command; call_command('check')",
    # A Celery worker imports every app's tasks module at start.
    "worker": ("import django; django.setup(); from config.celery import app; app.loader.import_default_modules()"),
    # `manage.py export_dataset`: a whole-command export starts with loading its command.
    "export command": (
        "import django; django.setup(); from django.core.management import load_command_class; "
        "load_command_class('analytics', 'export_dataset')"
    ),
}


def heavy_modules_loaded_by(program: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"{program}\n{REPORT}"],
        cwd=ROOT,
        env=program_environment(DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_starting_a_program_imports_no_heavy_library(program):
    assert heavy_modules_loaded_by(program) == []


def test_the_report_sees_a_heavy_library_that_is_imported():
    """The check itself can fail: a program that imports pandas is reported as loading it."""
    assert "pandas" in heavy_modules_loaded_by("import django; django.setup(); import analytics.dataset")
