"""Signing a casebook or a visit with re-authentication, and unlocking with a reason.

21 CFR 11.200(a)(1): a signature uses two distinct components, a user ID and a password; the
first signing in a continuous session uses both, later ones at least one (the password). The
web page knows the session and passes `user_id` on the first signing; the service checks what
it is given against the signer. 21 CFR 11.50: the signature shows the printed name, the date
and time, and the meaning. EU GMP Annex 11 §14: signatures are permanently linked to their
record and carry the time and date.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry.models import (
    AlsfrsrAssessment,
    DataQuery,
    Patient,
    QueryStatus,
    Signature,
    SignatureMeaning,
    SignatureScope,
    User,
)
from registry.roles import Area
from registry.services.audit import authorise_write
from registry.signing import content_hash

WRONG_CREDENTIALS = "The user ID or password is not right; nothing was signed."


def _reauthenticate(actor: User, password: str, user_id: str | None) -> None:
    if user_id is not None and user_id.strip() != actor.get_username():
        raise ValidationError({"user_id": WRONG_CREDENTIALS})
    if not password or not actor.check_password(password):
        raise ValidationError({"password": WRONG_CREDENTIALS})


def signature_sign(
    *,
    actor: User,
    record: Patient | AlsfrsrAssessment,
    meaning: str,
    password: str,
    user_id: str | None = None,
) -> Signature:
    """Sign a patient's casebook (`record` the patient) or one visit (an ALSFRS-R assessment).

    `user_id`: given on the first signing of a session, and then checked as well as the password.
    A casebook is signed once its queries are answered; signing locks what was signed.
    """
    patient = record if isinstance(record, Patient) else record.patient
    scope = SignatureScope.CASEBOOK if isinstance(record, Patient) else SignatureScope.VISIT
    authorise_write(actor, Area.SIGN, patient)
    if meaning not in SignatureMeaning.values:
        raise ValidationError({"meaning": "Choose what your signature means."})
    _reauthenticate(actor, password, user_id)
    printed_name = actor.get_full_name().strip()
    if not printed_name:
        raise ValidationError("Your account has no full name to print with the signature; ask an administrator.")
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)  # one signing of a patient at a time
        open_queries = DataQuery.objects.filter(patient=patient, status=QueryStatus.OPEN).count()
        if scope == SignatureScope.CASEBOOK and open_queries:
            raise ValidationError(
                f"{open_queries} data quer{'y is' if open_queries == 1 else 'ies are'} still open for this patient; "
                "answer them before signing the casebook."
            )
        signature = Signature(
            patient=patient,
            scope=scope,
            record_type=ContentType.objects.get_for_model(record),
            record_id=record.pk,
            signer=actor,
            printed_name=printed_name,
            signed_at=timezone.now().replace(microsecond=0),
            meaning=meaning,
        )
        signature.content_hash = content_hash(signature, record)
        signature.full_clean()
        signature._history_user = actor  # type: ignore[attr-defined]
        signature._change_reason = f"Signed ({signature.get_meaning_display()})"  # type: ignore[attr-defined]
        signature.save()
    return signature


def signature_invalidate(*, actor: User, signature: Signature, reason: str) -> Signature:
    """Unlock a signed record: a data manager, with a reason; the signature no longer holds."""
    authorise_write(actor, Area.UNLOCK, signature.patient)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is unlocked; it is kept with the signature."})
    with transaction.atomic():
        signature = Signature.objects.select_for_update().get(pk=signature.pk)
        if signature.invalidated_at is not None:
            raise ValidationError("This signature was already invalidated; the record is unlocked.")
        signature.invalidated_at, signature.invalidated_by = timezone.now(), actor
        signature.invalidation_reason = reason.strip()
        signature._history_user = actor  # type: ignore[attr-defined]
        signature._change_reason = f"Unlocked: {reason.strip()}"  # type: ignore[attr-defined]
        signature.save()
    return signature
