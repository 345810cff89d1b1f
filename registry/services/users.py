"""Site user management: a site lead invites, deactivates and re-roles their own site's users and
resets their second factor, without the admin; a superuser may do the same anywhere.

Rules (registry.roles): a lead grants only the site roles up to their own, at their own sites,
and manages only users wholly within their sites. Each change writes an AccountEvent in its
transaction. A reset or an invitation returns a one-time link (only its hash is kept): the user
sets a password (invitation) and enrols a new authenticator through it, never with a password alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import AccountAction, ApiToken, EnrolmentLink, Site, User
from registry.roles import may_manage_user, roles_grantable_by
from registry.services.accounts import account_event_record

LINK_VALID_FOR = dt.timedelta(days=7)


def link_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _link_issue(*, actor: User, user: User, purpose: str) -> str:
    EnrolmentLink.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now())  # older ones void
    key = secrets.token_urlsafe(32)
    EnrolmentLink.objects.create(
        user=user,
        purpose=purpose,
        key_hash=link_key_hash(key),
        created_by=actor,
        expires_at=timezone.now() + LINK_VALID_FOR,
    )
    return key


def _check_grant(actor: User, role: str, site: Site | None) -> None:
    if role not in roles_grantable_by(actor):
        raise PermissionDenied("You may give only the site roles up to your own.")
    if site is not None and not actor.is_superuser and not actor.sites.filter(pk=site.pk).exists():
        raise PermissionDenied("You may add users only to your own sites.")


def _check_manage(actor: User, user: User) -> None:
    if not may_manage_user(actor, user):
        raise PermissionDenied("You may manage only the users of your own sites, up to your own role.")


def user_invite(
    *, actor: User, site: Site, username: str, first_name: str, last_name: str, email: str, role: str
) -> tuple[User, str]:
    """A new user at `site` with `role`, no password yet; returns them and their one-time link key."""
    _check_grant(actor, role, site)
    user = User(username=username, first_name=first_name, last_name=last_name, email=email, role=role)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        user.sites.add(site)
        key = _link_issue(actor=actor, user=user, purpose=EnrolmentLink.Purpose.INVITATION)
        account_event_record(
            actor=actor, subject=user, action=AccountAction.USER_INVITED, detail=f"{role} at {site.code}"
        )
    return user, key


def user_deactivate(*, actor: User, user: User, reason: str) -> User:
    """Sign `user` out of the registry for good: inactive, tokens revoked. Records are kept."""
    _check_manage(actor, user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the user is deactivated."})
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        account_event_record(actor=actor, subject=user, action=AccountAction.USER_DEACTIVATED, detail=reason)
    user.refresh_from_db()
    return user


def user_role_grant(*, actor: User, user: User, role: str) -> User:
    """Change `user`'s role, within what `actor` may grant."""
    _check_manage(actor, user)
    _check_grant(actor, role, None)
    with transaction.atomic():
        before = user.role
        User.objects.filter(pk=user.pk).update(role=role)
        account_event_record(actor=actor, subject=user, action=AccountAction.ROLE_GRANTED, detail=f"{before} -> {role}")
    user.refresh_from_db()
    return user


def second_factor_reset(*, actor: User, user: User) -> str:
    """Remove `user`'s authenticator and recovery codes; returns the one-time link to re-enrol."""
    _check_manage(actor, user)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        key = _link_issue(actor=actor, user=user, purpose=EnrolmentLink.Purpose.RESET)
        account_event_record(actor=actor, subject=user, action=AccountAction.SECOND_FACTOR_RESET)
    return key


def enrolment_link_find(key: str) -> EnrolmentLink | None:
    """The outstanding, unexpired link for `key`, of an active user."""
    return (
        EnrolmentLink.objects.select_related("user")
        .filter(key_hash=link_key_hash(key), used_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )


def enrolment_link_outstanding(user: User) -> bool:
    return EnrolmentLink.objects.filter(user=user, used_at__isnull=True).exists()


def enrolment_link_use(*, link: EnrolmentLink) -> None:
    EnrolmentLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
