"""Least-privilege database roles on PostgreSQL: an owner that changes the schema, an app role that works.

- The **owner** (`DATABASE_ADMIN_URL`) owns every table, function and trigger. `migrate`,
  `flush`, `backup`, `restore` and `rotate_identity_keys` connect as the owner.
- The **app role** (`DATABASE_URL`) is what web, worker and beat connect as. After every
  migrate, the owner grants it SELECT, INSERT, UPDATE and DELETE on ordinary tables, but only
  SELECT and INSERT on the append-only tables (the audit trail and the access logs, see
  `registry.audit_guard.append_only_tables`). Not owning them, it cannot TRUNCATE, ALTER or
  disable their triggers either, and it cannot lift the audit guard.

Without `DATABASE_ADMIN_URL` (the SQLite demo, or a developer's single PostgreSQL superuser),
everything runs as the one configured role and nothing here changes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from registry.audit_guard import append_only_tables

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"


def owner_credentials() -> dict[str, Any] | None:
    """The owner's USER, PASSWORD, HOST and PORT from DATABASE_ADMIN_URL, or None without one."""
    return getattr(settings, "DATABASE_ADMIN", None)


def app_role(alias: str = DEFAULT_DB_ALIAS) -> str:
    """The role the app runs as: DATABASE_URL's user (settings.DATABASES, which as_owner leaves alone)."""
    return str(settings.DATABASES[alias]["USER"])


def roles_separated(alias: str = DEFAULT_DB_ALIAS) -> bool:
    owner = owner_credentials()
    return owner is not None and connections[alias].vendor == "postgresql" and owner["USER"] != app_role(alias)


@contextmanager
def as_owner(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block connected as the owner, then go back to the app role.

    Only this thread's connection changes (its own copy of the settings; the database name is
    kept, so it works on the test database too). A connection cannot change user inside a
    transaction, so calling this inside one is refused rather than silently committed.
    """
    connection = connections[alias]
    owner = owner_credentials()
    if owner is None or not roles_separated(alias) or connection.settings_dict["USER"] == owner["USER"]:
        yield
        return
    if connection.in_atomic_block:
        raise RuntimeError("Cannot connect as the database owner inside a transaction: start it outside one.")
    app_settings = connection.settings_dict
    connection.close()
    connection.settings_dict = {**app_settings, **owner}
    try:
        yield
    finally:
        connection.close()
        # create_test_db changes NAME on both the copy and settings.DATABASES, so this keeps it.
        connection.settings_dict = app_settings


def _quoted(connection: Any, names: list[str]) -> str:
    return ", ".join(connection.ops.quote_name(name) for name in names)


def _refuse_a_privileged_app_role(cursor: Any, role: str) -> None:
    """An app role that is a superuser, acts as the owner or writes everything would void the grants."""
    cursor.execute(
        "SELECT rolsuper OR pg_has_role(rolname, current_user, 'MEMBER')"
        " OR pg_has_role(rolname, 'pg_write_all_data', 'USAGE') FROM pg_roles WHERE rolname = %s",
        [role],
    )
    row = cursor.fetchone()
    if row is None:
        raise ImproperlyConfigured(f"The app role {role!r} (DATABASE_URL) does not exist.")
    if row[0]:
        raise ImproperlyConfigured(
            f"The app role {role!r} (DATABASE_URL) is a superuser, a member of the owner role or of "
            "pg_write_all_data, so it could rewrite the audit trail. Give the app a role of its own "
            "(docs/deployment.md, 'Database roles')."
        )


def grant_app_privileges(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Give the app role what it needs and no more (run by the owner after every migrate)."""
    connection = connections[alias]
    if not roles_separated(alias) or connection.settings_dict["USER"] == app_role(alias):
        return
    role = connection.ops.quote_name(app_role(alias))
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        _refuse_a_privileged_app_role(cursor, app_role(alias))
        cursor.execute("SELECT current_schema()")
        schema = connection.ops.quote_name(cursor.fetchone()[0])
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
        cursor.execute(f"GRANT {APP_PRIVILEGES} ON ALL TABLES IN SCHEMA {schema} TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
        protected = _quoted(connection, append_only_tables())
        cursor.execute(f"REVOKE ALL ON {protected} FROM {role}")
        cursor.execute(f"GRANT {APPEND_ONLY_PRIVILEGES} ON {protected} TO {role}")
