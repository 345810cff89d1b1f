"""Benchmarks as versioned, cited data, and analysis runs as reproducible records."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from analytics.benchmark_spec import forum_or_aggregator


class Provenance(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed (in the primary source)"
    SECONDARY = "secondary", "Secondary (quoted by news or charity text)"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    RECONSTRUCTED = "reconstructed", "Reconstructed (digitised / Guyot pseudo-IPD)"


class BenchmarkKind(models.TextChoices):
    HAZARD_RATIO = "hazard_ratio", "Hazard ratio (IL-2LD vs placebo)"
    SURVIVAL_AT = "survival_at", "Survival proportion at a time"
    KM_POINTS = "km_points", "Digitised Kaplan-Meier points of an arm"
    DEATHS = "deaths", "Deaths in an arm"
    SLOPE = "slope", "ALSFRS-R change per month"
    RATE_RATIO = "rate_ratio", "Ratio of ALSFRS-R decline rates (IL-2LD / placebo)"
    ELIGIBILITY = "eligibility", "Eligibility criterion"


class Benchmark(models.Model):
    """One published trial figure. Revising it adds a version; old versions stay for old runs."""

    code = models.SlugField(
        max_length=60,
        help_text="Stable name, e.g. mirocals_hr_low_pnfh",
        db_index=False,  # `unique_benchmark_version` leads with it
    )
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    trial = models.CharField(max_length=60, default="MIROCALS")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=BenchmarkKind.choices)
    arm = models.CharField(max_length=40, blank=True, help_text="il2ld or placebo, when the figure is per arm")
    stratum = models.CharField(max_length=20, default="all", help_text="all, low or high (CSF pNFH)")
    comparison = models.CharField(max_length=20, blank=True, help_text="unadjusted or adjusted, for hazard ratios")
    value = models.FloatField(null=True, blank=True)
    ci_lower = models.FloatField(null=True, blank=True)
    ci_upper = models.FloatField(null=True, blank=True)
    time_days = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(null=True, blank=True)
    points = models.JSONField(default=list, blank=True, help_text="[[day, survival], ...] for digitised curves")
    risk_table = models.JSONField(
        default=list, blank=True, help_text="[[day, number at risk], ...] as printed under the figure (first day 0)"
    )
    total_events = models.PositiveIntegerField(null=True, blank=True, help_text="Events in the arm, if reported")
    doi = models.CharField(max_length=100, blank=True, help_text="DOI of the primary publication")
    figure = models.CharField(max_length=100, blank=True, help_text="Figure, table or page the numbers come from")
    digitised_by = models.CharField(max_length=100, blank=True)
    digitised_on = models.DateField(null=True, blank=True)
    secondary_sources = models.JSONField(
        default=list, blank=True, help_text="Secondary sources quoting the publication, each labelled secondary"
    )
    is_test = models.BooleanField(default=False, help_text="Synthetic test data: never a trial result")
    text = models.TextField(blank=True, help_text="For eligibility criteria and notes")
    provenance = models.CharField(max_length=16, choices=Provenance.choices)
    source = models.TextField(help_text="Citation: paper, DOI/PMID, figure or page; who digitised it and how")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["trial", "code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="unique_benchmark_version"),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(is_current=True),
                name="one_current_benchmark_version",
                violation_error_message="Only one version of a benchmark can be current.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} (v{self.version}, {self.provenance})"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        if self.points is None:  # a form's empty field gives None; the column holds a list
            self.points = []
        super().clean_fields(exclude)

    def clean(self) -> None:
        super().clean()
        if self.kind != BenchmarkKind.ELIGIBILITY and self.kind != BenchmarkKind.KM_POINTS and self.value is None:
            raise ValidationError({"value": "This kind of benchmark needs a value."})
        if self.kind == BenchmarkKind.SURVIVAL_AT:
            if not self.time_days:
                raise ValidationError({"time_days": "Give the time point of the survival proportion."})
            if not 0 < (self.value or 0) < 1:
                raise ValidationError({"value": "A survival proportion lies between 0 and 1."})
        if self.kind == BenchmarkKind.HAZARD_RATIO and (self.value or 0) <= 0:
            raise ValidationError({"value": "A hazard ratio is positive."})
        low, high, value = self.ci_lower, self.ci_upper, self.value
        if low is not None and high is not None and value is not None and not low <= value <= high:
            raise ValidationError({"ci_lower": "The confidence interval must contain the estimate."})
        if self.kind == BenchmarkKind.KM_POINTS:
            self._check_points()
        if self.stratum not in ("all", "low", "high", "below_750"):
            raise ValidationError({"stratum": "Use all, below_750, low or high."})
        for text in (self.source, *map(str, self.secondary_sources or [])):
            if forum_or_aggregator(text):
                raise ValidationError({"source": f"A forum or a news aggregator is never a source: {text!r}."})
        if self.risk_table:
            self._check_risk_table()

    def _check_risk_table(self) -> None:
        try:
            rows = [(float(t), int(n)) for t, n in self.risk_table]
        except (TypeError, ValueError) as error:
            raise ValidationError({"risk_table": "Give the risk table as [[day, number at risk], ...]."}) from error
        days = [t for t, _ in rows]
        counts = [n for _, n in rows]
        if days[0] != 0 or days != sorted(set(days)):
            raise ValidationError({"risk_table": "The risk table starts at day 0 and its days increase."})
        if any(b > a for a, b in itertools.pairwise(counts)) or counts[-1] < 0:
            raise ValidationError({"risk_table": "Numbers at risk never increase."})

    def _check_points(self) -> None:
        try:
            pairs = [(float(t), float(s)) for t, s in self.points]
        except (TypeError, ValueError) as error:
            raise ValidationError({"points": "Give points as [[day, survival], ...]."}) from error
        if len(pairs) < 2:
            raise ValidationError({"points": "A digitised curve needs at least two points."})
        times = [t for t, _ in pairs]
        survival = [s for _, s in pairs]
        if times != sorted(times) or len(set(times)) != len(times) or min(times) < 0:
            raise ValidationError({"points": "Days must be increasing and not negative."})
        if any(b > a for a, b in itertools.pairwise(survival)) or not all(0 < s <= 1 for s in survival):
            raise ValidationError({"points": "Survival must lie in (0, 1] and never increase."})


#: The analysis an `AnalysisRun` runs: the survival suite (`analytics.suite`).
ANALYSIS = "survival_suite"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class AnalysisRun(models.Model):
    """One run of an analysis: the data snapshot, parameters and versions it used, and its results.

    Results and figures are written in the same transaction that marks the run succeeded, so a run
    is either complete or has none; a crash leaves it running until retried or marked failed.
    """

    analysis = models.CharField(max_length=40, default="survival_suite")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=12, default="manual", help_text="schedule, manual or command")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    parameters = models.JSONField(default=dict)
    snapshot = models.JSONField(default=dict, help_text="Row counts and latest audit ids per table")
    snapshot_hash = models.CharField(max_length=64, blank=True)
    benchmarks_used = models.JSONField(default=list)
    fingerprint = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Hash of data snapshot, parameters, benchmarks and code versions",
    )
    library_versions = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    progress_done = models.PositiveSmallIntegerField(default=0)
    progress_total = models.PositiveSmallIntegerField(default=0)
    progress_step = models.CharField(max_length=40, blank=True)
    results = models.JSONField(null=True, blank=True)
    figures = models.JSONField(null=True, blank=True, help_text="name -> SVG text")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_run_per_analysis",
                violation_error_message="This analysis is already queued or running.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analysis} #{self.pk} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def progress_percent(self) -> int:
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class ArchivedReportError(Exception):
    """An archived report was about to be changed or deleted."""


class RunReport(models.Model):
    """A run's regulator report (PDF) and analysis package (zip), written once when the run
    finishes and never changed: `save` refuses an update and `delete` refuses, and on PostgreSQL
    the table is append-only like the audit trail (`append_only`, registry.audit_guard: a trigger
    refuses UPDATE and DELETE, and the app role holds only SELECT and INSERT on it)."""

    append_only = True

    run = models.OneToOneField(AnalysisRun, on_delete=models.PROTECT, related_name="report")
    created_at = models.DateTimeField(auto_now_add=True)
    code_version = models.CharField(max_length=64, help_text="Git commit of the code that computed the run")
    dataset_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the analysis dataset file in the package")
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    package = models.BinaryField()
    package_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Report of run {self.run_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ArchivedReportError("A run's report is archived: it cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ArchivedReportError("A run's report is archived: it cannot be deleted.")
