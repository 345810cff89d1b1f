"""Pharmacovigilance: the case every serious adverse event opens, its reports, and its clocks.

A serious adverse event (ICH E2A) starts a reporting clock the moment the registry is aware of
it. The case holds what the report needs beyond the adverse event itself (awareness, the
sender's causality and expectedness against the product's reference safety information, the
narrative) and each report sent, versioned: the initial report, then follow-ups, each with the
reference the recipient gave (the company's case number, or the Yellow Card reference).
Clocks are data per route (`registry.constants.REPORTING_CLOCKS`, sources in docs/safety.md).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registry.constants import (
    RECIPIENT_COMPANY,
    RECIPIENT_YELLOW_CARD,
    SUSAR_FATAL_DAYS,
    SUSAR_FATAL_FOLLOW_UP_DAYS,
    SUSAR_OTHER_DAYS,
    ReportingClock,
    reporting_clock,
)
from registry.models.base import ClinicalRecord, as_date, check_not_in_future
from registry.models.choices import AeOutcome, Relatedness
from registry.models.safety import AdverseEvent

#: Causality assessments that leave a reasonable possibility of a causal relationship (ICH E2A:
#: "suspected" adverse reaction).
SUSPECTED = frozenset({Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE})


class Expectedness(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not yet assessed"
    EXPECTED = "expected", "Expected (listed in the reference safety information)"
    UNEXPECTED = "unexpected", "Unexpected (not listed, or more severe than listed)"


class ReportRecipient(models.TextChoices):
    COMPANY = RECIPIENT_COMPANY, "Company (managed access programme)"
    YELLOW_CARD = RECIPIENT_YELLOW_CARD, "MHRA Yellow Card"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open: initial report not sent"
    REPORTED = "reported", "Reported: follow-up possible"
    CLOSED = "closed", "Closed"


class SafetyCase(ClinicalRecord):
    """The pharmacovigilance case of one serious adverse event, opened by the service that made it serious."""

    adverse_event = models.OneToOneField(AdverseEvent, on_delete=models.PROTECT, related_name="safety_case")
    aware_at = models.DateTimeField("Awareness date and time", help_text="When the site first knew of the event.")
    route_code = models.CharField(max_length=20, blank=True, help_text="The patient's route when the case opened.")
    initial_due_at = models.DateTimeField(null=True, blank=True, help_text="Empty: as soon as possible.")
    company_is_sponsor = models.BooleanField("The company acts as sponsor (track its SUSAR clocks)", default=False)
    causality = models.CharField(
        "Causality (sender's assessment)", max_length=12, choices=Relatedness.choices, blank=True
    )
    expectedness = models.CharField(max_length=14, choices=Expectedness.choices, default=Expectedness.NOT_ASSESSED)
    narrative = models.TextField(
        blank=True, help_text="Clinical course, treatment, outcome and anything relevant (ICH E2B(R3) H.1)."
    )
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)

    history = HistoricalRecords()

    class Meta:
        ordering = ["initial_due_at", "aware_at"]
        indexes = [models.Index(fields=["status", "initial_due_at"], name="safety_case_status_due")]

    def __str__(self) -> str:
        return f"Safety case {self.case_number}"

    @property
    def case_number(self) -> str:
        """The sender's case identifier (ICH E2B(R3) C.1.1), stable for the case's life."""
        return f"IL2LD-SAE-{self.pk:06d}" if self.pk else "IL2LD-SAE-(new)"

    @property
    def clock(self) -> ReportingClock:
        return reporting_clock(self.route_code)

    @property
    def is_susar(self) -> bool:
        """Suspected (reasonable possibility), unexpected and serious: the sponsor's expedited clock."""
        causality = self.causality or self.adverse_event.relatedness
        return causality in SUSPECTED and self.expectedness == Expectedness.UNEXPECTED

    @property
    def fatal_or_life_threatening(self) -> bool:
        event = self.adverse_event
        return bool(event.criterion_death or event.criterion_life_threatening or event.outcome == AeOutcome.FATAL)

    def susar_due_at(self) -> dt.datetime | None:
        """The company's SUSAR deadline when it acts as sponsor and the case is a SUSAR."""
        if not (self.company_is_sponsor and self.is_susar):
            return None
        days = SUSAR_FATAL_DAYS if self.fatal_or_life_threatening else SUSAR_OTHER_DAYS
        return self.aware_at + dt.timedelta(days=days)

    def susar_follow_up_due_at(self) -> dt.datetime | None:
        """Fatal or life-threatening SUSARs: complete information within 8 more days."""
        due = self.susar_due_at()
        if due is None or not self.fatal_or_life_threatening:
            return None
        return due + dt.timedelta(days=SUSAR_FATAL_FOLLOW_UP_DAYS)

    @property
    def overdue(self) -> bool:
        return self.is_overdue(timezone.now())

    @property
    def susar_due(self) -> dt.datetime | None:
        return self.susar_due_at()

    @property
    def susar_follow_up_due(self) -> dt.datetime | None:
        return self.susar_follow_up_due_at()

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.status == CaseStatus.OPEN and self.initial_due_at is not None and now > self.initial_due_at

    def clean(self) -> None:
        super().clean()
        if self.aware_at:
            # Awareness is when the registry learnt of the case (an import's moment, not a fact of
            # its file), so it is judged against the real today, never an import's data cut-off.
            if as_date(self.aware_at) > timezone.localdate():
                raise ValidationError({"aware_at": "This date is in the future."})
            onset = self.adverse_event.onset_date if self.adverse_event_id else None
            if onset and self.aware_at.date() < onset:
                raise ValidationError({"aware_at": "Awareness cannot precede the event's onset."})


def initial_due(clock: ReportingClock, aware_at: dt.datetime) -> dt.datetime | None:
    return None if clock.initial_hours is None else aware_at + dt.timedelta(hours=clock.initial_hours)


class SafetyReport(ClinicalRecord):
    """One report of a case as sent: the initial report (sequence 0), then follow-ups (1, 2, …)."""

    case = models.ForeignKey(
        SafetyCase,
        on_delete=models.PROTECT,
        related_name="reports",
        db_index=False,  # `one_safety_report_per_sequence` leads with it
    )
    sequence = models.PositiveSmallIntegerField(editable=False)
    recipient = models.CharField(max_length=12, choices=ReportRecipient.choices)
    sent_at = models.DateTimeField("Sent at")
    reference = models.CharField(
        "Reference of the report sent",
        max_length=60,
        help_text="The company's case number or the Yellow Card reference.",
    )
    outcome = models.CharField(
        "Outcome at the time of the report", max_length=24, choices=AeOutcome.choices, default=AeOutcome.UNKNOWN
    )
    narrative = models.TextField(blank=True, help_text="The narrative as sent (new information for a follow-up).")
    unlicensed_stated = models.BooleanField(
        "The report states that the product is unlicensed (a special)", default=False
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="one_safety_report_per_sequence"),
        ]

    def __str__(self) -> str:
        kind = "initial report" if self.sequence == 0 else f"follow-up {self.sequence}"
        return f"{kind} of safety case {self.case_id}"

    @property
    def kind(self) -> str:
        return "Initial" if self.sequence == 0 else f"Follow-up {self.sequence}"

    def clean(self) -> None:
        super().clean()
        if self.sent_at:
            check_not_in_future(self.sent_at, "sent_at")
            if self.case_id and self.sent_at < self.case.aware_at.replace(second=0, microsecond=0):
                raise ValidationError({"sent_at": "A report cannot be sent before the site was aware of the event."})
        if not (self.reference or "").strip():
            raise ValidationError({"reference": "Give the reference the recipient gave the report."})
        if not (self.narrative or "").strip():
            raise ValidationError({"narrative": "A report needs its narrative."})
        if self.case_id and self.case.clock.unlicensed and not self.unlicensed_stated:
            raise ValidationError(
                {"unlicensed_stated": "The product on this route is unlicensed: the report must say so."}
            )


class Notification(models.Model):
    """An in-app message to one user (a new serious adverse event); read once, kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # `notification_user_unread` leads with it
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.subject
