"""Electronic signatures of an investigator on a patient's casebook or on one visit.

A signature records the signer's printed name, the date and time and the meaning of the
signing (21 CFR 11.50; EU GMP Annex 11 §14), and is bound to its record by a keyed hash of the
signed content (21 CFR 11.70): copied to another record, or left on content changed behind the
application's back, it no longer verifies. A valid signature locks what it signed; a data
manager unlocks it with a reason, which invalidates it (the row stays, with who, when and why).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.models.patient import Patient


class SignatureScope(models.TextChoices):
    CASEBOOK = "casebook", "Casebook"
    VISIT = "visit", "Visit"


class SignatureMeaning(models.TextChoices):
    """What the signer means by signing (21 CFR 11.50(a)(3)); the label is shown with the signature."""

    APPROVAL = "approval", "Approval: I have reviewed these data and confirm they are accurate and complete."
    REVIEW = "review", "Review: I have reviewed these data."
    AUTHORSHIP = "authorship", "Authorship: I am responsible for these data."


class Signature(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="signatures")
    scope = models.CharField(max_length=10, choices=SignatureScope.choices)
    record_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # `signature_record` leads with it
    )
    record_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("record_type", "record_id")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=12, choices=SignatureMeaning.choices)
    content_hash = models.CharField(max_length=64, help_text="HMAC-SHA256 of the signed content and the signature.")
    invalidated_at = models.DateTimeField(null=True, blank=True)
    invalidated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invalidation_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="signature_record")]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id"],
                condition=Q(invalidated_at__isnull=True),
                name="one_valid_signature_per_record",
                violation_error_message="This record is already signed.",
            )
        ]

    def __str__(self) -> str:
        when = f"{self.signed_at:%Y-%m-%d %H:%M}"
        return f"{self.get_scope_display()} of {self.patient_id} signed by {self.printed_name} at {when}"

    @property
    def is_valid(self) -> bool:
        return self.invalidated_at is None
