"""Access services: a person's second factor, recorded as account events.

Every change to who may act, and how they prove it, writes an `AccountEvent` in the same
transaction (append-only, like the audit trail).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccountAction, AccountEvent, User

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "recovery codes"


def account_event_record(*, actor: User | None, subject: User, action: AccountAction, detail: str = "") -> AccountEvent:
    return AccountEvent.objects.create(actor=actor, subject=subject, action=action, detail=detail[:500])


def recovery_codes_issue(*, actor: User) -> list[str]:
    """A fresh set of one-time recovery codes for `actor`, replacing any left; returned to be shown once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=actor).delete()
        device = StaticDevice.objects.create(user=actor, name=RECOVERY_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        account_event_record(
            actor=actor, subject=actor, action=AccountAction.RECOVERY_CODES_ISSUED, detail=f"{len(codes)} codes"
        )
    return codes


def second_factor_enrol(*, actor: User, device: TOTPDevice) -> list[str]:
    """Confirm `device` (whose first code the caller checked) as `actor`'s only authenticator.

    Any earlier authenticator is removed, and a new set of recovery codes is issued and returned
    (to be shown once). Replacing an authenticator needs the current factor: the caller checks it.
    """
    if device.user_id != actor.pk:
        raise PermissionDenied("You can enrol an authenticator only for yourself.")
    with transaction.atomic():
        earlier = TOTPDevice.objects.filter(user=actor, confirmed=True).exclude(pk=device.pk)
        replacing = earlier.exists()
        earlier.delete()
        TOTPDevice.objects.filter(user=actor, confirmed=False).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        action = AccountAction.SECOND_FACTOR_REPLACED if replacing else AccountAction.SECOND_FACTOR_ENROLLED
        account_event_record(actor=actor, subject=actor, action=action)
        return recovery_codes_issue(actor=actor)
