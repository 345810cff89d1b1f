"""Account events: who changed whose access, kept apart from the clinical audit trail."""

from __future__ import annotations

from django.db import models

from registry.models.people import User


class AccountAction(models.TextChoices):
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "second factor enrolled"
    SECOND_FACTOR_REPLACED = "second_factor_replaced", "second factor replaced"
    SECOND_FACTOR_RESET = "second_factor_reset", "second factor reset"
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", "recovery codes issued"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    USER_INVITED = "user_invited", "user invited"
    USER_DEACTIVATED = "user_deactivated", "user deactivated"
    USER_CHANGED = "user_changed", "user changed"
    ROLE_GRANTED = "role_granted", "role granted"


class AccountEvent(models.Model):
    """One change to a person's access: enrolment of a second factor, a token, a role, a flag.

    Append-only like the audit trail (registry.audit_guard): the app role may only SELECT and
    INSERT, and a trigger refuses UPDATE and DELETE.
    """

    append_only = True

    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="account_actions")
    subject = models.ForeignKey(User, on_delete=models.PROTECT, related_name="account_events")
    action = models.CharField(max_length=40, choices=AccountAction.choices)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor or 'system'}: {self.get_action_display()} for {self.subject}"


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A person's API token: named, scoped, expiring, revocable; only a hash of the key is kept.

    Created only by its own user from a session that passed the second factor (the key is shown
    once), so a token never skips 2FA. `scope` read refuses every unsafe method.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.READ)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="The key's first characters, to recognise it")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.scope}) of {self.user}"


class EnrolmentLink(models.Model):
    """A one-time link to set a password (an invitation) and enrol a second factor (also after a reset).

    While one is outstanding, the user's second factor can be enrolled only through it, never
    with a password alone. Only a hash of its key is kept.
    """

    class Purpose(models.TextChoices):
        INVITATION = "invitation", "invitation"
        RESET = "reset", "second-factor reset"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="enrolment_links")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.user}"
