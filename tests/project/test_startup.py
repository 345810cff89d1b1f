"""Start-up stays light: no program imports the heavy numerical libraries until it uses them.

pandas, numpy, lifelines, matplotlib, pyarrow, pyreadstat, weasyprint and scipy cost about 2 s
and 200 MB before a process does anything (docs/benchmarks-archive.md, "Start-up"); every `manage.py`
command, web worker and Celery worker would pay that at start. The modules that URL confs,
admin, apps, models, tasks and commands import at start import them inside the functions that
use them. Each program below starts in a fresh interpreter and reports which of them it loaded.

Lighter modules are loaded when first used too: the Celery app (config.celery: its
configuration and task discovery), imported by registry.tasking before the first task is sent,
the Redis client (health checks, heartbeats), `cryptography` (the first identifier encrypted or
decrypted) and `segno` (the two-factor enrolment page's QR code). psycopg and Celery itself are loaded at start
by Django (the first model asks the database backend for its limits) and by
django_celery_beat's models, whatever the project does. `manage.py export_dataset` skips the
system checks, which load every URL conf, view and the API schema tooling (drf-spectacular).
The URL confs and API views do not load that tooling either: drf-spectacular's AutoSchema and
views are imported when a schema is first asked for (api.schema_marks, api.urls).

manage.py and the web workers (config.wsgi) set Django up with the cyclic garbage collector
paused, and freeze what set-up built once the apps are ready (config.startup): the collector runs
for the command or the requests, and never scans the start-up's objects again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import program_environment

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "lifelines", "matplotlib", "pyarrow", "pyreadstat", "weasyprint", "scipy")

#: Loaded when first used, by any program but the one that uses them.
LAZY = ("config.celery", "redis")
#: Libraries that one function each needs, loaded when it first runs: the identifiers' encryption
#: (registry.crypto; the encrypted fields' models import it) and the enrolment page's QR code.
FIRST_USE_LIBRARIES = ("cryptography", "segno")
#: What a whole-command export never uses: URL confs, API views and the schema tooling.
NOT_FOR_EXPORTS = ("config.urls", "api.views", "drf_spectacular.openapi", "rest_framework.test", "django.test")
#: The API schema tooling, loaded when a schema is first asked for (api.schema_marks, api.urls).
SCHEMA_TOOLING = (
    "api.schema",
    "drf_spectacular.openapi",
    "drf_spectacular.generators",
    "drf_spectacular.views",
    "rest_framework.test",
    "django.test",
)


def report(modules: tuple[str, ...]) -> str:
    return f"import json, sys; print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))"


EXPORT_COMMAND = (
    "import django; django.setup(); from django.core.management import load_command_class; "
    "command = load_command_class('analytics', 'export_dataset'); "
    "command.check() if command.requires_system_checks else None"
)
PROGRAMS = {
    # What a web worker loads before its first request: apps, models, admin (autodiscovered in
    # setup) and every URL conf with its views.
    "web": "import django; django.setup(); from django.urls import get_resolver; get_resolver().url_patterns",
    # `manage.py check`: the system checks, which load the URL confs too.
    "check": "import django; django.setup(); from django.core.management import call_command; call_command('check')",
    # A Celery worker imports every app's tasks module at start.
    "worker": ("import django; django.setup(); from config.celery import app; app.loader.import_default_modules()"),
    # `manage.py export_dataset`: a whole-command export loads its command and runs the system
    # checks it asks for (BaseCommand.execute) before it exports.
    "export command": EXPORT_COMMAND,
}


def last_json_line_of(command: list[str]) -> Any:
    """Run a Python program as the project's processes run, and read what its last line reports."""
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=program_environment(DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def heavy_modules_loaded_by(program: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    loaded: list[str] = last_json_line_of(["-c", f"{program}\n{report(modules)}"])
    return loaded


@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_starting_a_program_imports_no_heavy_library(program):
    assert heavy_modules_loaded_by(program) == []


def test_the_report_sees_a_heavy_library_that_is_imported():
    """The check itself can fail: a program that imports pandas is reported as loading it."""
    assert "pandas" in heavy_modules_loaded_by("import django; django.setup(); import analytics.dataset")


@pytest.mark.parametrize("program", ["web", "check", "export command"])
def test_starting_a_program_loads_neither_the_celery_app_nor_redis(program):
    assert heavy_modules_loaded_by(PROGRAMS[program], LAZY) == []


@pytest.mark.parametrize("program", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_starting_a_program_loads_neither_the_encryption_library_nor_the_qr_code_library(program):
    assert heavy_modules_loaded_by(program, FIRST_USE_LIBRARIES) == []


def test_the_encryption_library_is_loaded_by_the_first_identifier_encrypted():
    """The check above can fail: encrypting a value loads `cryptography`."""
    program = "import django; django.setup(); from registry.crypto import encrypt; encrypt('1970-01-01')"
    assert heavy_modules_loaded_by(program, FIRST_USE_LIBRARIES) == ["cryptography"]


@pytest.mark.parametrize("program", ["web", "check"])
def test_starting_a_program_with_the_url_confs_loads_no_api_schema_tooling(program):
    assert heavy_modules_loaded_by(PROGRAMS[program], SCHEMA_TOOLING) == []


def test_generating_the_api_schema_loads_its_tooling():
    """The check above can fail: the tooling is reported once a schema is generated."""
    program = (
        f"{PROGRAMS['web']}; from drf_spectacular.generators import SchemaGenerator; "
        "SchemaGenerator().get_schema(request=None, public=True)"
    )
    assert heavy_modules_loaded_by(program, ("api.schema", "drf_spectacular.openapi")) == [
        "api.schema",
        "drf_spectacular.openapi",
    ]


def test_the_export_command_starts_without_url_confs_views_or_the_api_schema_tooling():
    assert heavy_modules_loaded_by(EXPORT_COMMAND, NOT_FOR_EXPORTS) == []


def test_a_task_sent_from_a_program_that_did_not_load_celery_goes_through_the_projects_app():
    """registry.tasking imports the app before the first task: the task is bound to it (broker,
    eager mode from the settings), not to Celery's unconfigured default app."""
    program = (
        "import django; django.setup(); from django.conf import settings; "
        "from registry.tasking import task_named; "
        "task = task_named('analytics.tasks.export_files_purge_task'); "
        "assert task.app.main == 'il2ld_registry', task.app.main; "
        "assert task.app.conf.broker_url == settings.CELERY_BROKER_URL"
    )
    assert heavy_modules_loaded_by(program, LAZY) == ["config.celery"]
    assert heavy_modules_loaded_by(PROGRAMS["worker"], LAZY) == ["config.celery"]


COLLECTOR_STATE = "import gc, json; print(json.dumps([gc.isenabled(), gc.get_freeze_count() > 0]))"


def collector_state_in(command: list[str]) -> list[bool]:
    """[collector enabled, objects frozen] as the program's last line reports them."""
    state: list[bool] = last_json_line_of(command)
    return state


def test_a_manage_py_command_runs_with_the_collector_on_and_the_start_ups_objects_frozen():
    assert collector_state_in(["manage.py", "shell", "--verbosity", "0", "-c", COLLECTOR_STATE]) == [True, True]


def test_a_web_worker_serves_with_the_collector_on_and_the_start_ups_objects_frozen():
    assert collector_state_in(["-c", f"import config.wsgi; {COLLECTOR_STATE}"]) == [True, True]


def test_setting_django_up_leaves_the_collector_of_a_program_that_did_not_pause_it_as_it_was():
    """Tests, Celery and scripts set Django up themselves: no freezing, and a collector they turned
    off stays off."""
    assert collector_state_in(["-c", f"import django; django.setup(); {COLLECTOR_STATE}"]) == [True, False]
    program = f"import gc; gc.disable(); import django; django.setup(); {COLLECTOR_STATE}"
    assert collector_state_in(["-c", program]) == [False, False]
