"""The one way clinical data is written: authorised, validated once, saved with its audit row.

Every service calls `audited_save` (or `record_update`), which refuses an unexplained or stale
edit and hands simple-history who changed what and why, in the transaction of the write.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from registry.models import (
    CHANGE_REASON_MAX_LENGTH,
    ChangeReasonRequired,
    ChangeReasonTooLong,
    ClinicalRecord,
    Patient,
    User,
)
from registry.roles import Area, may_write
from registry.selectors import patients_visible_to
from registry.signing import lock_message, locking_signature

R = TypeVar("R", bound=ClinicalRecord)


class StaleRecordError(ValidationError):
    """Someone else saved the record after this editor loaded it."""


def authorise_write(actor: User | None, area: Area, patient: Patient | None = None) -> None:
    """Refuse writes by roles without the right, or to patients outside the actor's sites.

    `actor` None is a system job (seeding, a scheduled task) acting without a person.
    """
    if actor is None:
        return
    if not may_write(actor, area):
        raise PermissionDenied("Your role may not change this data.")
    if patient is not None and patient.pk and not patients_visible_to(actor).filter(pk=patient.pk).exists():
        raise PermissionDenied("This patient is not at one of your sites.")


def audited_save(instance: R, *, actor: User | None, reason: str = "", expected_version: int | None = None) -> R:
    """Validate and save a clinical record with its audit entry.

    An update needs a reason. With `expected_version` (the version the editor loaded), a
    record changed by someone else since is refused rather than overwritten.
    """
    is_update = instance.pk is not None and not instance._state.adding
    reason = (reason or "").strip()
    if is_update and not reason:
        raise ChangeReasonRequired("A reason for change is required to edit clinical data.")
    if len(reason) > CHANGE_REASON_MAX_LENGTH:
        raise ChangeReasonTooLong(
            f"A reason for change holds at most {CHANGE_REASON_MAX_LENGTH} characters (this one has {len(reason)})."
        )
    with transaction.atomic():
        if is_update:
            current = type(instance)._default_manager.select_for_update().only("version").get(pk=instance.pk)
            if expected_version is not None and current.version != expected_version:
                raise StaleRecordError(_stale_message(instance))
            instance.version = current.version + 1
        signature = locking_signature(instance)
        if signature is not None:
            raise ValidationError(lock_message(signature))
        instance.full_clean()
        instance._history_user = actor  # type: ignore[attr-defined]
        instance._change_reason = reason or "Created"  # type: ignore[attr-defined]
        instance.save()
    return instance


def _stale_message(instance: ClinicalRecord) -> str:
    latest = instance.history.order_by("-history_date").first()  # type: ignore[attr-defined]
    who = getattr(latest, "history_user", None) if latest else None
    when = f" at {latest.history_date:%H:%M on %d %b %Y}" if latest else ""
    by = f" by {who.get_full_name() or who.username}" if who else ""
    return (
        f"This record was changed{by}{when} after you opened it. Your changes were not saved; "
        "reload the record to see the current version and enter your change again."
    )


def record_update(
    instance: R,
    *,
    actor: User | None,
    reason: str,
    expected_version: int | None,
    area: Area = Area.CLINICAL,
    **changes: Any,
) -> R:
    """Apply field changes to a record the actor may write, then `audited_save` it."""
    authorise_write(actor, area, getattr(instance, "patient", None))
    for field, value in changes.items():
        setattr(instance, field, value)
    return audited_save(instance, actor=actor, reason=reason, expected_version=expected_version)
