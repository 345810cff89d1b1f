"""Data quality: the rules (data, with a severity) and the queries they or a data manager raise.

A rule that finds something doubtful (doses missed with no interruption recorded, an
implausible jump) does not refuse the record, which would lose real data: it raises a query,
kept with the record until the site answers and a data manager closes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

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
    #: When the doubt arose (a visit fell due); None: when the record was last saved. A query the
    #: data manager closed after this is not raised again.
    since: dt.date | None = None


class Severity(models.TextChoices):
    """How much a query matters to the analysis (ordered: the first is the most urgent)."""

    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class QueryStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class DataQualityRule(models.Model):
    """A data-quality rule as data: whether it runs, how severe its queries are, its thresholds.

    The check itself is code (`registry.quality`), found by `code`; a data manager switches a
    rule on or off, changes its severity or its parameters (window, thresholds) in the admin,
    with the change audited.
    """

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    active = models.BooleanField(default=True)
    parameters = models.JSONField(default=dict, blank=True, help_text="Thresholds the check reads, as JSON.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def parameter(self, name: str, default: Any) -> Any:
        value = (self.parameters or {}).get(name, default)
        return default if value is None else value


class DataQuery(models.Model):
    """A question on a record (or one of its fields) for the site to answer.

    Open → answered (by the site) → closed (by a data manager), or re-opened from answered or
    closed. Every step is a history row with who, when and why.
    """

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="data_queries",
        db_index=False,  # `data_query_patient_status` leads with it
    )
    record_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # `data_query_record` leads with it
    )
    record_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("record_type", "record_id")
    field_name = models.CharField(max_length=60, blank=True)
    rule = models.CharField(
        max_length=60, blank=True, help_text="The data-quality rule that raised it; empty if raised by hand."
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    message = models.TextField()
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at"]
        verbose_name_plural = "data queries"
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="data_query_record"),
            models.Index(fields=["patient", "status"], name="data_query_patient_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id", "rule"],
                condition=~Q(rule="") & ~Q(status="closed"),
                name="one_open_query_per_rule_and_record",
                violation_error_message="The same rule already has an open query on this record.",
            )
        ]

    def __str__(self) -> str:
        return f"Query on {self.record_type.model} {self.record_id}: {self.message[:60]}"
