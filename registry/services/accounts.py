"""Access services: a person's second factor, recorded as account events.

Every change to who may act, and how they prove it, writes an `AccountEvent` in the same
transaction (append-only, like the audit trail).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccountAction, AccountEvent, ApiToken, User

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


# --- API tokens

TOKEN_MAX_DAYS = 365


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, actor: User, name: str, scope: str, expires_on: dt.date) -> tuple[ApiToken, str]:
    """A new token for `actor` themself; returns it and its key, which is shown once and never kept."""
    today = timezone.localdate()
    if expires_on <= today or expires_on > today + dt.timedelta(days=TOKEN_MAX_DAYS):
        raise ValidationError({"expires_on": f"Choose an expiry after today and within {TOKEN_MAX_DAYS} days."})
    key = secrets.token_urlsafe(32)
    expires_at = timezone.make_aware(dt.datetime.combine(expires_on, dt.time.max))
    token = ApiToken(user=actor, name=name.strip(), scope=scope, key_hash=_key_hash(key), prefix=key[:8])
    token.expires_at = expires_at
    token.full_clean()
    with transaction.atomic():
        token.save()
        account_event_record(
            actor=actor,
            subject=actor,
            action=AccountAction.TOKEN_CREATED,
            detail=f"{token.name!r} ({token.prefix}…), {scope}, expires {expires_on:%Y-%m-%d}",
        )
    return token, key


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token: its owner, or a superuser, may."""
    if token.user_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied("You may revoke only your own tokens.")
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db()
        account_event_record(
            actor=actor,
            subject=token.user,
            action=AccountAction.TOKEN_REVOKED,
            detail=f"{token.name!r} ({token.prefix}…)",
        )
    return token


def api_token_authenticate(key: str) -> ApiToken | None:
    """The live token for `key` (not revoked, not expired, its user active), its last use noted."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_key_hash(key), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is not None and (token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION):
        # At most one write a minute per token: last use to the minute is what a reviewer needs.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


LAST_USED_PRECISION = dt.timedelta(minutes=1)


def user_deactivate(*, actor: User | None, user: User) -> User:
    """Deactivate a user instead of deleting them: they can no longer sign in, and their name stays
    on every audit row, access-log row and record they touched (deleting would rewrite the
    append-only history). Superusers only (`actor` None is a system job)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("Only a superuser deactivates users.")
    with transaction.atomic():
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            account_event_record(actor=actor, subject=user, action=AccountAction.USER_DEACTIVATED)
    return user
