"""Identifier key rotation: identities and their audit copies re-encrypted under the newest key."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction

from registry.audit_guard import allow_audit_rewrite
from registry.crypto import blind_index, reencrypt
from registry.db_roles import as_owner
from registry.meta import concrete_column
from registry.models import Notification, Patient, PatientIdentity, Role, User
from registry.nhs_number import nhs_number_error, normalise_nhs_number
from registry.selectors import patients_visible_to

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


POSSIBLE_DUPLICATE_MESSAGE = (
    "This NHS number cannot be used for this enrolment. The data manager has been told and will "
    "contact you; you can enrol without the NHS number meanwhile."
)


def nhs_number_duplicate_screen(*, actor: User | None, nhs_number: str, patient: Patient | None = None) -> None:
    """Refuse an NHS number already held for a patient `actor` may not see, without saying where,
    and tell every active data manager (issue 14, item 9).

    Run before the write's transaction, so the notification is kept though the write is refused.
    A duplicate within the actor's own sites keeps the model's own message (it names nothing new).
    """
    if actor is None or not nhs_number or nhs_number_error(nhs_number):
        return
    held = PatientIdentity.objects.filter(nhs_number_hash=blind_index(normalise_nhs_number(nhs_number)))
    if patient is not None:
        held = held.exclude(patient_id=patient.pk)
    existing = held.select_related("patient").first()
    if existing is None or patients_visible_to(actor).filter(pk=existing.patient_id).exists():
        return
    sites = ", ".join(actor.sites.values_list("code", flat=True)) or "no site"
    Notification.objects.bulk_create(
        Notification(
            user=manager,
            subject="Possible duplicate NHS number at enrolment",
            body=(
                f"{actor.get_full_name() or actor.username} ({sites}) entered the NHS number already held "
                f"for {existing.patient.study_id}. The entry was refused; please check with the site."
            ),
            link=f"/patients/{existing.patient.study_id}/",
        )
        for manager in User.objects.filter(role=Role.DATA_MANAGER, is_active=True)
    )
    raise ValidationError({"nhs_number": POSSIBLE_DUPLICATE_MESSAGE})
