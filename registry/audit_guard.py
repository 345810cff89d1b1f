"""A database-level guard that makes the audit trail and the access logs append-only on PostgreSQL.

The append-only tables are every historical (audit) table of django-simple-history and every
model that declares `append_only = True` (the access logs, e.g. IdentityAccess): the list is
derived from the models, so a new audited model or access log is covered by the next migrate.

Each gets a trigger that refuses UPDATE and DELETE, so neither the app, the admin, a shell nor
a stray SQL statement can rewrite history. The app role cannot reach even that far: it holds
only SELECT and INSERT on these tables and owns none of them (registry.db_roles), so UPDATE,
DELETE, TRUNCATE and ALTER TABLE … DISABLE TRIGGER are refused before any trigger runs. The
one sanctioned rewrite, re-encryption under a new key, runs as the owner and sets a
transaction-local flag; the trigger honours that flag only for the table's owner (or a
superuser), so granting a role UPDATE by mistake still would not let it rewrite history.
TRUNCATE (test teardown, full restore: the owner's work) is not row-level and is unaffected.
SQLite (the demo) has no such guard; the app never updates historical rows and the admin
cannot delete them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION registry_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('registry.allow_audit_rewrite', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'The audit trail (%) is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def historical_tables() -> list[str]:
    """The audit trail: the historical tables of django-simple-history."""
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model.__name__.startswith("Historical") and hasattr(model, "instance_type")
    )


def access_log_tables() -> list[str]:
    """Logs of who read what: models that declare `append_only = True`."""
    return sorted(model._meta.db_table for model in apps.get_models() if getattr(model, "append_only", False) is True)


def append_only_tables() -> list[str]:
    return sorted({*historical_tables(), *access_log_tables()})


def install(connection: Any, tables: list[str] | None = None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_SQL)
        for table in tables or append_only_tables():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"DROP TRIGGER IF EXISTS audit_append_only ON {quoted}")
            cursor.execute(
                f"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {quoted} "
                "FOR EACH ROW EXECUTE FUNCTION registry_audit_append_only()"
            )


@contextmanager
def allow_audit_rewrite(connection: Any, reason: str) -> Iterator[None]:
    """Lift the guard for the current transaction only (SET LOCAL ends with it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('registry.allow_audit_rewrite', 'on', true)")
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('registry.allow_audit_rewrite', 'off', true)")
