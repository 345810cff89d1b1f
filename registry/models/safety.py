"""Adverse events and the serious-adverse-event alerts they raise."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from registry.models.base import ClinicalRecord, check_order
from registry.models.choices import (
    SERIOUSNESS_CRITERIA,
    SERIOUSNESS_CRITERION_FIELDS,
    AeAction,
    AeOutcome,
    CtcaeGrade,
    Relatedness,
)
from registry.models.patient import Patient


class AdverseEvent(ClinicalRecord):
    """An adverse event: severity (CTCAE grade) and seriousness (ICH E2A) are kept apart."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        db_index=False,  # `one_ae_per_term_onset` leads with it
    )
    term = models.CharField(max_length=200, help_text="Verbatim or CTCAE term, e.g. Injection site reaction")
    onset_date = models.DateField()
    resolution_date = models.DateField(null=True, blank=True)
    ctcae_grade = models.PositiveSmallIntegerField("CTCAE v5 grade", choices=CtcaeGrade.choices)
    serious = models.BooleanField(default=False)
    criterion_death = models.BooleanField("Results in death", default=False)
    criterion_life_threatening = models.BooleanField("Life-threatening", default=False)
    criterion_hospitalisation = models.BooleanField("Hospitalisation or prolongation", default=False)
    criterion_disability = models.BooleanField("Persistent or significant disability", default=False)
    criterion_congenital_anomaly = models.BooleanField("Congenital anomaly", default=False)
    criterion_important_medical_event = models.BooleanField("Important medical event", default=False)
    relatedness = models.CharField("Relatedness to IL-2LD", max_length=12, choices=Relatedness.choices)
    action_taken = models.CharField(max_length=16, choices=AeAction.choices, default=AeAction.NONE)
    outcome = models.CharField(max_length=24, choices=AeOutcome.choices, default=AeOutcome.UNKNOWN)
    meddra_llt_code = models.CharField(
        "MedDRA LLT code",
        max_length=8,
        blank=True,
        validators=[RegexValidator(r"^\d{8}$", "A MedDRA LLT code has 8 digits.")],
    )

    #: The event as reported, defined once for the form, the import and the export: what
    #: identifies it for its patient, then what follow-up may change. The interchange format
    #: carries these: a change here is a change of the format (bump `interchange.rif.FORMAT_VERSION`).
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("term", "onset_date")
    FOLLOW_UP_FIELDS: ClassVar[tuple[str, ...]] = (
        "resolution_date",
        "ctcae_grade",
        "serious",
        *SERIOUSNESS_CRITERION_FIELDS,
        "relatedness",
        "action_taken",
        "outcome",
        "meddra_llt_code",
    )

    timeline_date_field = "onset_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "onset_date"]
        # A batch page lists its recipients' first adverse events by onset, from its first supply on.
        indexes = [models.Index(fields=["onset_date", "id"], name="adverse_event_onset")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "term", "onset_date"],
                name="one_ae_per_term_onset",
                violation_error_message="This adverse event is already recorded with the same onset date.",
            ),
        ]

    @property
    def seriousness_criteria(self) -> list[str]:
        return [
            name
            for name, field in zip(SERIOUSNESS_CRITERIA, SERIOUSNESS_CRITERION_FIELDS, strict=True)
            if getattr(self, field)
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.onset_date} of {self.patient_id}"

    @classmethod
    def timeline_fields(cls) -> tuple[str, ...]:
        return ("onset_date", "resolution_date")

    def timeline_dates(self) -> list[tuple[str, dt.date]]:
        """Onset and resolution: an event cannot resolve after the patient's death either."""
        dates = super().timeline_dates()
        if self.resolution_date is not None:
            dates.append(("resolution_date", self.resolution_date))
        return dates

    def clean(self) -> None:
        super().clean()
        check_order(self.onset_date, self.resolution_date, "resolution_date", "Resolution cannot precede onset.")
        criteria = self.seriousness_criteria
        if self.serious and not criteria:
            raise ValidationError({"serious": "A serious adverse event needs at least one seriousness criterion."})
        if criteria and not self.serious:
            raise ValidationError({"serious": "Seriousness criteria are ticked: mark the event as serious."})
        fatal = self.ctcae_grade == CtcaeGrade.DEATH
        if fatal != (self.outcome == AeOutcome.FATAL):
            raise ValidationError({"outcome": "CTCAE grade 5 and a fatal outcome go together."})
        if fatal and not self.criterion_death:
            raise ValidationError(
                {"criterion_death": "A grade 5 (fatal) event meets the 'results in death' criterion."}
            )
        if fatal and self.patient_id:
            fatal_event_errors(self.resolution_date, self.patient.death_date())


def fatal_event_errors(resolution: dt.date | None, death: dt.date | None) -> None:
    """A grade 5 event ends on the date of death: the death record and the event agree on the day."""
    if death is None:
        return
    if resolution is None:
        raise ValidationError({"resolution_date": f"The patient died on {death:%d %b %Y}: give that as the end date."})
    if resolution != death:
        raise ValidationError(
            {
                "resolution_date": f"A fatal event ends on the date of death ({death:%d %b %Y}), "
                f"not {resolution:%d %b %Y}."
            }
        )


class SeriousAdverseEventAlert(models.Model):
    """A serious adverse event flagged to the data managers the moment it is recorded.

    Seriousness (ICH E2A) starts reporting clocks (24 h investigator to sponsor in trials;
    Yellow Card for unlicensed use), so the registry does not wait for anyone to look: the
    alert is listed on the data managers' page and mailed to them. It is workflow state, not
    clinical data, so it is not versioned; acknowledging one records who and when.
    """

    adverse_event = models.OneToOneField(AdverseEvent, on_delete=models.PROTECT, related_name="sae_alert")
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_by = models.ForeignKey("registry.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "registry.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = "serious adverse event alert"

    def __str__(self) -> str:
        return f"SAE alert for {self.adverse_event}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
