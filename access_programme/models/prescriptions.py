"""The prescription a supply is made against, and the pharmacy that supplies it.

A pharmacy dispenses to a prescriber's order, after a pharmacist's clinical check; the
assembled supply gets an accuracy check by a second person (`Dispensing.accuracy_checked_by`).
For an unlicensed special the order is the prescriber's unsolicited request for an individual
patient's special clinical needs (Human Medicines Regulations 2012, regulation 167).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from access_programme.models.enrolment import Enrolment
from access_programme.models.products import RouteCode
from registry.constants import DOSING_DAYS_PER_CYCLE, PROTOCOL_DAILY_DOSE_MIU
from registry.models import ClinicalRecord, Patient, Site

PROTOCOL_DIRECTIONS = "Inject 2 MIU under the skin once a day on days 1 to 5 of the 28-day cycle."


class Prescription(ClinicalRecord):
    """The prescriber's order for one cycle, and the pharmacist's clinical check of it."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="prescriptions",
        db_index=False,  # `unique_prescription_per_cycle` leads with it
    )
    cycle_number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    prescribed_on = models.DateField()
    prescriber = models.CharField(max_length=120, help_text="Name and professional registration number.")
    dose_miu = models.DecimalField(
        max_digits=5, decimal_places=2, default=PROTOCOL_DAILY_DOSE_MIU, validators=[MinValueValidator(Decimal("0.01"))]
    )
    doses = models.PositiveSmallIntegerField(
        default=DOSING_DAYS_PER_CYCLE, validators=[MinValueValidator(1), MaxValueValidator(DOSING_DAYS_PER_CYCLE)]
    )
    directions = models.CharField(max_length=300, default=PROTOCOL_DIRECTIONS)
    unsolicited_request = models.BooleanField(
        default=False,
        help_text="For a special: the prescriber's unsolicited request for this patient (HMR 2012 reg. 167).",
    )
    special_need = models.TextField(blank=True, help_text="For a special: the patient's special clinical need.")
    clinically_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clinically_checked_at = models.DateTimeField(null=True, blank=True)

    timeline_date_field = "prescribed_on"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "cycle_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "cycle_number"],
                name="unique_prescription_per_cycle",
                violation_error_message="This cycle is already prescribed for the patient.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} cycle {self.cycle_number} ({self.prescriber})"

    @property
    def is_clinically_checked(self) -> bool:
        return self.clinically_checked_at is not None

    def clean(self) -> None:
        super().clean()
        if not self.patient_id:
            return
        enrolment = Enrolment.objects.filter(patient_id=self.patient_id).select_related("route").first()
        if enrolment is None or not enrolment.route.is_treatment:
            raise ValidationError("Only patients enrolled on a treatment route are prescribed IL-2LD.")
        if enrolment.route.code == RouteCode.NHS_SPECIALS:
            errors: dict[str, str] = {}
            if not self.unsolicited_request:
                errors["unsolicited_request"] = (
                    "A special is supplied only on the prescriber's unsolicited request (reg. 167): confirm it."
                )
            if not self.special_need.strip():
                errors["special_need"] = "State the patient's special clinical need the special meets."
            if errors:
                raise ValidationError(errors)


class SitePharmacy(models.Model):
    """The dispensing pharmacy of a site, as its labels name it."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="pharmacy")
    name = models.CharField(max_length=200)
    address = models.TextField()
    telephone = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = "site pharmacies"

    def __str__(self) -> str:
        return self.name
