"""Repeated measurements: ALSFRS-R assessments and biomarker results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from registry import scoring
from registry.models.base import NON_FIELD, ClinicalRecord
from registry.models.choices import Analyte
from registry.models.patient import Patient, symptom_onset
from registry.units import CANONICAL_UNIT, normalise


def _item_field(label: str, required: bool = True) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label,
        null=not required,
        blank=not required,
        validators=[MaxValueValidator(4)],
    )


class AlsfrsrAssessment(ClinicalRecord):
    """One ALSFRS-R assessment. Totals, subscores, stages and ΔFS are derived, never entered."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="alsfrsr_assessments",
        db_index=False,  # `one_alsfrsr_per_patient_day` leads with it
    )
    assessment_date = models.DateField()
    q1_speech = _item_field("1. Speech")
    q2_salivation = _item_field("2. Salivation")
    q3_swallowing = _item_field("3. Swallowing")
    q4_handwriting = _item_field("4. Handwriting")
    q5a_cutting_without_gastrostomy = _item_field("5a. Cutting food (no gastrostomy)", required=False)
    q5b_cutting_with_gastrostomy = _item_field("5b. Cutting food (with gastrostomy)", required=False)
    q6_dressing_hygiene = _item_field("6. Dressing and hygiene")
    q7_turning_in_bed = _item_field("7. Turning in bed")
    q8_walking = _item_field("8. Walking")
    q9_climbing_stairs = _item_field("9. Climbing stairs")
    q10_dyspnoea = _item_field("10. Dyspnoea")
    q11_orthopnoea = _item_field("11. Orthopnoea")
    q12_respiratory_insufficiency = _item_field("12. Respiratory insufficiency")

    total = models.PositiveSmallIntegerField(editable=False)
    bulbar = models.PositiveSmallIntegerField(editable=False)
    fine_motor = models.PositiveSmallIntegerField(editable=False)
    gross_motor = models.PositiveSmallIntegerField(editable=False)
    respiratory = models.PositiveSmallIntegerField(editable=False)
    kings_stage = models.CharField(max_length=2, editable=False)
    mitos_stage = models.PositiveSmallIntegerField(editable=False)
    delta_fs = models.DecimalField(max_digits=6, decimal_places=3, null=True, editable=False)

    timeline_date_field = "assessment_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "assessment_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "assessment_date"],
                name="one_alsfrsr_per_patient_day",
                violation_error_message="An ALSFRS-R assessment is already recorded for this patient on this date.",
            ),
        ]

    DERIVED_FIELDS: ClassVar[tuple[str, ...]] = (
        "total",
        "bulbar",
        "fine_motor",
        "gross_motor",
        "respiratory",
        "kings_stage",
        "mitos_stage",
        "delta_fs",
    )

    def items(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in scoring.ITEM_FIELDS}

    def clean_fields(self, exclude: Any = None) -> None:
        # Derived columns are filled at save time from the items, never entered.
        super().clean_fields(exclude=set(exclude or ()) | set(self.DERIVED_FIELDS))

    def __str__(self) -> str:
        return f"ALSFRS-R {self.assessment_date} of {self.patient_id}"

    def clean(self) -> None:
        super().clean()
        errors = scoring.item_errors(self.items())
        if errors:
            raise ValidationError({(NON_FIELD if k == "__all__" else k): v for k, v in errors.items()})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_scores(symptom_onset(self.patient))
        super().save(*args, **kwargs)

    def derive_scores(self, symptom_onset: dt.date | None) -> None:
        """Fill the derived columns from the items; the one place they are computed."""
        scores = scoring.score(self.items())
        self.total = scores.total
        self.bulbar = scores.bulbar
        self.fine_motor = scores.fine_motor
        self.gross_motor = scores.gross_motor
        self.respiratory = scores.respiratory
        self.kings_stage = scores.kings_stage
        self.mitos_stage = scores.mitos_stage
        dfs = scoring.delta_fs(scores.total, symptom_onset, self.assessment_date) if symptom_onset else None
        self.delta_fs = None if dfs is None else Decimal(str(round(dfs, 3)))


class BiomarkerResult(ClinicalRecord):
    """A biomarker measurement, stored in its analyte's canonical unit with the assay used."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="biomarkers",
        db_index=False,  # `one_result_per_analyte_day` leads with it
    )
    sample_date = models.DateField()
    analyte = models.CharField(max_length=20, choices=Analyte.choices)
    value = models.DecimalField(max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal(0))])
    unit = models.CharField(max_length=8, editable=False)
    reported_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    reported_unit = models.CharField(max_length=8, blank=True)
    assay = models.CharField(max_length=120, help_text="Kit or method; pNFH thresholds depend on the assay.")
    laboratory = models.CharField(max_length=120, blank=True)

    #: The result's fields, in column order: the canonical value and unit derived from what the
    #: laboratory reported, beside it. The API serves and the dataset exports these.
    RECORDED_FIELDS: ClassVar[tuple[str, ...]] = (
        "sample_date",
        "analyte",
        "value",
        "unit",
        "reported_value",
        "reported_unit",
        "assay",
        "laboratory",
    )

    timeline_date_field = "sample_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "sample_date", "analyte"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "sample_date", "analyte"],
                name="one_result_per_analyte_day",
                violation_error_message="A result for this analyte is already recorded on this date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.sample_date} of {self.patient_id}"

    def clean_fields(self, exclude: Any = None) -> None:
        """The canonical value and unit are derived from what the laboratory reported, on every path."""
        errors: dict[str, list[str]] = {}
        exclude = set(exclude or ())
        if self.analyte and self.reported_value is not None and self.reported_unit:
            try:
                self.value, self.unit = canonical_biomarker_value(self.analyte, self.reported_value, self.reported_unit)
            except ValidationError as error:
                errors.update(error.message_dict)
                exclude.add("value")  # not derived: the unit's message says why
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        super().clean()
        if self.analyte == Analyte.TREG_PERCENT_CD4 and self.value is not None and self.value > 100:
            raise ValidationError({"value": "A percentage cannot exceed 100."})
        if self.analyte and self.unit and CANONICAL_UNIT.get(self.analyte) != self.unit:
            raise ValidationError({"unit": f"{self.analyte} is stored in {CANONICAL_UNIT.get(self.analyte)}."})
        if not (self.assay or "").strip():
            raise ValidationError({"assay": "Name the assay: pNFH thresholds depend on it."})


def canonical_biomarker_value(analyte: str, reported_value: Decimal, reported_unit: str) -> tuple[Decimal, str]:
    """A reported result in its analyte's canonical unit, or the error naming the accepted units.

    The one conversion: the model derives its stored value with it, and the importer checks
    a file's rows with it.
    """
    try:
        return normalise(analyte, Decimal(reported_value), reported_unit)
    except ValueError as error:
        raise ValidationError({"reported_unit": str(error)}) from error
