"""Export logs: every dataset leaving the registry is recorded (who, when, what, how many rows)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExportLog(models.Model):
    """One export of a dataset table or the data dictionary, by the API, the web page or a command.

    Written when the export starts and completed when its last row is written, so an export
    that was interrupted (client gone, error) stays visible with completed=False.
    """

    class Channel(models.TextChoices):
        API = "api", "API"
        WEB = "web", "Web page"
        COMMAND = "command", "Management command"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exports",
        db_index=False,  # the (user, started_at) index leads with it
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept if the user is later renamed.")
    table = models.CharField(max_length=40)
    file_format = models.CharField(max_length=12)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    completed = models.BooleanField(default=False)
    destination = models.CharField(max_length=500, blank=True, help_text="File path, for command exports.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "-started_at"])]

    def __str__(self) -> str:
        who = self.username or "system"
        return f"{self.table}.{self.file_format} by {who} at {self.started_at:%Y-%m-%d %H:%M}"


class ExportJob(models.Model):
    """A statistics-package export (Stata, SPSS, SAS, R) built by a worker, downloaded when ready.

    Only its requester may download the file, which is deleted after the retention period
    (settings.DATASET_EXPORT_RETENTION_HOURS) by a periodic task; the row stays as a record.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired (file deleted)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="export_jobs",
        db_index=False,  # `exportjob_user_created` leads with it
    )
    table = models.CharField(max_length=40)
    file_format = models.CharField(max_length=12)
    channel = models.CharField(max_length=8, choices=ExportLog.Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_step = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", blank=True, max_length=300)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the data file inside the zip.")
    row_count = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    log = models.OneToOneField(ExportLog, on_delete=models.PROTECT, null=True, blank=True, related_name="job")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="exportjob_user_created"),
            models.Index(fields=["status", "expires_at"], name="exportjob_status_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.table}.{self.file_format} job {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return min(100, round(100 * self.progress_done / self.progress_total)) if self.progress_total else 0
