"""Import runs and their reports.

An ImportRun is the data manager's receipt for one cohort import: who started it, from which
file, how far it has got (the upload page polls it), what it did per file, and the report CSV
listing every rejected row and every warning. Runs started from the command line are recorded
too, so every import into the registry leaves a trace beside the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to start"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    """One import of a cohort in the registry interchange format (RIF)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="import_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    source_name = models.CharField(max_length=255, help_text="Name of the uploaded file or folder.")
    source_file = models.FileField(upload_to="interchange/uploads/%Y/%m/", blank=True)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    current_file = models.CharField(max_length=64, blank=True, help_text="The file being imported now.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    file_counts = models.JSONField(default=dict, blank=True, help_text="Counts per file of the cohort.")
    report = models.FileField(upload_to="interchange/reports/%Y/%m/", blank=True)
    error = models.TextField(blank=True, help_text="Why the import stopped, if it failed.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.source_name} ({self.get_status_display()})"

    @property
    def percent_done(self) -> int:
        if self.status == ImportStatus.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

    def file_rows(self) -> list[dict[str, Any]]:
        """Per-file counts in the order the files were imported, for the summary table."""
        return [{"file": name, **counts} for name, counts in (self.file_counts or {}).items()]
