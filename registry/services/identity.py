"""Identifier key rotation: identities and their audit copies re-encrypted under the newest key."""

from __future__ import annotations

from django.db import connection, models, transaction

from registry.audit_guard import allow_audit_rewrite
from registry.crypto import reencrypt
from registry.db_roles import as_owner
from registry.meta import concrete_column
from registry.models import PatientIdentity

ENCRYPTED_IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "nhs_number")


def identity_keys_rotate(*, batch_size: int = 1000) -> dict[str, int]:
    """Re-encrypt identities and their audit copies under the newest key.

    Raw column values are re-encrypted token to token (MultiFernet.rotate), so no plaintext is
    handled and the audit trail is not "edited": the same values, under a new key. It runs as
    the database owner (registry.db_roles: the app role may not update audit rows), in one
    transaction, with the audit guard lifted for that transaction only (registry.audit_guard).
    """
    with as_owner(), transaction.atomic(), allow_audit_rewrite(connection, reason="identifier key rotation"):
        return {
            "identities": _reencrypt_table(PatientIdentity, batch_size),
            "history": _reencrypt_table(PatientIdentity.history.model, batch_size),
        }


def _reencrypt_table(model: type[models.Model], batch_size: int) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(concrete_column(model, model._meta.pk.name))
    columns = [connection.ops.quote_name(concrete_column(model, f)) for f in ENCRYPTED_IDENTITY_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk}, {', '.join(columns)} FROM {table}")  # noqa: S608 - quoted names
        rows = cursor.fetchall()
        updates = [[*(reencrypt(value) if value else value for value in row[1:]), row[0]] for row in rows]
        assignments = ", ".join(f"{column} = %s" for column in columns)
        for start in range(0, len(updates), batch_size):
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608 - quoted names
                updates[start : start + batch_size],
            )
    return len(rows)
