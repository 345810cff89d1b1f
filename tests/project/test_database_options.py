"""The app's PostgreSQL connections (docs/deployment.md, "Web server"): a query run again on the
same connection is not planned again (psycopg prepares it after its 5th run), unless a pooler in
transaction mode needs them off; and no query is JIT-compiled, unless told otherwise."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from registry.models import Patient
from tests.conftest import run_python
from tests.factories import PatientFactory

DEPLOYMENT_DATABASE = "postgres://registry@db.example.org:5432/registry"  # never connected to


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_run_a_sixth_time_on_a_connection_runs_as_a_prepared_statement():
    patient = PatientFactory.create()

    for _ in range(6):
        assert Patient.objects.filter(study_id=patient.study_id).get() == patient

    assert any('FROM "registry_patient"' in sql and '"study_id" = $1' in sql for sql in prepared_statements())


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_run_fewer_than_five_times_is_not_prepared():
    patient = PatientFactory.create()

    for _ in range(4):
        Patient.objects.filter(sex=patient.sex, study_id=patient.study_id).get()

    assert not any('"sex" = $1' in sql for sql in prepared_statements())


def database_options(**environment: str) -> dict:
    """The database OPTIONS that config/settings/base.py gives a PostgreSQL deployment with `environment`."""
    program = (
        "import json; from config.settings import base; print(json.dumps(base.DATABASES['default'].get('OPTIONS', {})))"
    )
    environment = {"DATABASE_URL": DEPLOYMENT_DATABASE, **environment}
    return json.loads(run_python("-c", program, env=environment).stdout)


def test_a_deployment_prepares_statements_unless_told_otherwise():
    assert database_options() == {"server_side_binding": True, "prepare_threshold": 5, "options": "-c jit=off"}


def test_prepared_statements_can_be_turned_off_for_a_pooler_in_transaction_mode():
    assert database_options(DJANGO_DB_PREPARED_STATEMENTS="false") == {"options": "-c jit=off"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_apps_connection_does_not_jit_compile_queries():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_jit_compilation_can_be_left_to_the_server():
    assert database_options(DJANGO_DB_JIT="true") == {"server_side_binding": True, "prepare_threshold": 5}


def test_turning_jit_off_keeps_the_server_options_the_database_url_gives():
    url = DEPLOYMENT_DATABASE + "?options=-c%20statement_timeout%3D5000"
    options = database_options(DATABASE_URL=url)
    assert options["options"] == "-c statement_timeout=5000 -c jit=off"
