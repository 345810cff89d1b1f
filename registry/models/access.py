"""Reads of direct identifiers, logged apart from the clinical audit trail."""

from __future__ import annotations

from django.db import models

from registry.models.patient import Patient
from registry.models.people import User


class IdentityAccess(models.Model):
    """One read of a patient's direct identifiers: who, which patient, when, through what.

    Append-only by design (no update path in the app, no admin change or delete); kept apart
    from the clinical audit trail because reads are not changes.
    """

    # registry.audit_guard: the app role may only SELECT and INSERT; a trigger refuses UPDATE and DELETE.
    append_only = True

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="identity_reads")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identity_reads")
    accessed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=40, help_text="web page, API, export …")
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-accessed_at"]
        verbose_name_plural = "identity accesses"

    def __str__(self) -> str:
        return f"{self.user} read {self.patient} at {self.accessed_at:%Y-%m-%d %H:%M}"


class IdentitySearch(models.Model):
    """One search of patients by direct identifiers: who, when, by which fields (never the values
    typed, which are identifiers themselves), and how many patients it found. Each patient shown
    is also an `IdentityAccess` (channel "identity search")."""

    append_only = True

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="identity_searches")
    searched_at = models.DateTimeField(auto_now_add=True, db_index=True)
    criteria = models.CharField(max_length=100, help_text="The fields searched by, e.g. family_name,date_of_birth.")
    results = models.PositiveIntegerField()

    class Meta:
        ordering = ["-searched_at"]
        verbose_name_plural = "identity searches"

    def __str__(self) -> str:
        return f"{self.user} searched by {self.criteria} at {self.searched_at:%Y-%m-%d %H:%M}"
