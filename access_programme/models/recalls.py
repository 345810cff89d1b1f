"""A recall reaching each patient who received the batch: flagged until a clinician acknowledges."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from access_programme.models.batches import Batch
from registry.models import Patient


class RecallNotice(models.Model):
    """One patient who received a recalled batch. Shown on the patient's page and the worklist
    until a clinician acknowledges it (patient contacted, reviewed for adverse reactions)."""

    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        related_name="recall_notices",
        db_index=False,  # `one_recall_notice_per_patient` leads with it
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="recall_notices",
        db_index=False,  # `recall_notice_open` leads with it
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [models.UniqueConstraint(fields=["batch", "patient"], name="one_recall_notice_per_patient")]
        indexes = [models.Index(fields=["patient", "acknowledged_at"], name="recall_notice_open")]

    def __str__(self) -> str:
        return f"Recall of {self.batch_id} for {self.patient_id}"
