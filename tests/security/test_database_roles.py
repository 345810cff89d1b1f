"""Least privilege: the app's database role cannot rewrite, empty or unguard the audit trail and access logs.

These tests run as the app role (DATABASE_URL), as the whole suite does on PostgreSQL; the test
database was created and migrated by the owner (DATABASE_ADMIN_URL), as in production.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from registry.audit_guard import append_only_tables
from registry.backup import _pg_env_and_args
from registry.db_roles import app_role, as_owner, owner_credentials
from tests.factories import treated_patient

pytestmark = [pytest.mark.requirement("AUD-02"), pytest.mark.db_roles, pytest.mark.django_db]

FORBIDDEN = {
    "UPDATE": "UPDATE {table} SET id = id",
    "DELETE": "DELETE FROM {table}",
    "TRUNCATE": "TRUNCATE {table}",
    "DISABLE TRIGGER": "ALTER TABLE {table} DISABLE TRIGGER ALL",
}


def app_role_runs(*statements: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


SWITCH_ON = "SELECT set_config('registry.allow_audit_rewrite', 'on', true)"


def test_the_tests_run_as_the_app_role_which_is_not_a_superuser():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (app_role(), False)


def test_the_app_role_owns_no_table():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        assert cursor.fetchone() == (0,)


@pytest.mark.parametrize("statement", FORBIDDEN)
@pytest.mark.parametrize("table", append_only_tables())
def test_the_app_role_cannot_change_an_append_only_table(table, statement):
    sql = FORBIDDEN[statement].format(table=connection.ops.quote_name(table))
    with pytest.raises(DatabaseError, match=r"permission denied|must be owner"):
        app_role_runs(sql)


def test_the_app_role_reads_and_appends_to_the_audit_trail():
    diagnosis = treated_patient().diagnosis  # writes its history row as the app role
    assert diagnosis.history.count() == 1


def test_the_rewrite_switch_does_not_open_the_audit_trail_to_the_app_role():
    treated_patient()
    with pytest.raises(DatabaseError, match="permission denied"):
        app_role_runs(SWITCH_ON, "UPDATE registry_historicaldiagnosis SET history_change_reason = 'rewritten'")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_rewrite_switch_is_refused_to_a_role_that_is_not_the_owner_even_with_update_granted():
    treated_patient()
    table, role = "registry_historicaldiagnosis", connection.ops.quote_name(app_role())
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE ON {table} TO {role}")  # a mistake an operator could make
    try:
        with pytest.raises(DatabaseError, match="append-only"):
            app_role_runs(SWITCH_ON, f"UPDATE {table} SET history_change_reason = 'rewritten'")
    finally:
        with as_owner(), connection.cursor() as cursor:
            cursor.execute(f"REVOKE UPDATE ON {table} FROM {role}")


def test_backup_and_restore_connect_as_the_owner():
    _environment, arguments = _pg_env_and_args()
    assert arguments[arguments.index("--username") + 1] == owner_credentials()["USER"] != app_role()
