"""A database-level guard that makes the audit trail append-only on PostgreSQL.

Every historical (audit) table gets a trigger that refuses UPDATE and DELETE, so neither the
app, the admin, a shell nor a stray SQL statement can rewrite history. The one sanctioned
rewrite, re-encryption under a new key, sets a transaction-local flag the trigger accepts.
TRUNCATE (test teardown, full restore) is not row-level and is unaffected. SQLite (the demo)
has no such guard; the app never updates historical rows and the admin cannot delete them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION registry_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('registry.allow_audit_rewrite', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'The audit trail (%) is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def historical_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model.__name__.startswith("Historical") and hasattr(model, "instance_type")
    )


def install(connection: Any, tables: list[str] | None = None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_SQL)
        for table in tables or historical_tables():
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
