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
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="exports"
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
