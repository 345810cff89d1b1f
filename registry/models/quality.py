"""Data-quality queries: a question about a record, raised by a rule or a data manager.

A rule that finds something doubtful (doses missed with no interruption recorded, an
implausible jump) does not refuse the record, which would lose real data: it raises a query,
kept with the record until the site answers and a data manager closes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.models.patient import Patient


@dataclass(frozen=True)
class Finding:
    """What a data-quality rule found about one record: which rule, on which field, and why."""

    rule: str
    field: str
    message: str


class QueryStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class DataQuery(models.Model):
    """A question on a record (or one of its fields) for the site to answer."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="data_queries")
    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    record_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("record_type", "record_id")
    field_name = models.CharField(max_length=60, blank=True)
    rule = models.CharField(
        max_length=60, blank=True, help_text="The data-quality rule that raised it; empty if raised by hand."
    )
    message = models.TextField()
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at"]
        verbose_name_plural = "data queries"
        indexes = [models.Index(fields=["record_type", "record_id"], name="data_query_record")]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id", "rule"],
                condition=~Q(rule="") & ~Q(status="closed"),
                name="one_open_query_per_rule_and_record",
            )
        ]

    def __str__(self) -> str:
        return f"Query on {self.record_type.model} {self.record_id}: {self.message[:60]}"
