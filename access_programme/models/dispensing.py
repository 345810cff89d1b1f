"""Dispensing: one supply of product to a patient for a cycle (specials record-keeping, reg. 170)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from access_programme.models.batches import Batch, BatchStatus, batch_unusable_reason
from access_programme.models.cycles import TreatmentCycle
from access_programme.models.enrolment import Enrolment
from access_programme.models.prescriptions import Prescription
from access_programme.models.products import QuantityUnit
from access_programme.models.supply_rules import prescription_errors, window_errors
from registry.constants import DOSING_DAYS_PER_CYCLE
from registry.models import ClinicalRecord, Patient

#: Specials records are kept at least this long (Human Medicines Regulations 2012, reg. 170).
SPECIALS_RETENTION_YEARS = 5


class Dispensing(ClinicalRecord):
    """One supply of product to a patient for a cycle (specials record-keeping, reg. 170)."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="dispensings",
        db_index=False,  # `unique_dispensing` leads with it
    )
    cycle = models.ForeignKey(TreatmentCycle, on_delete=models.PROTECT, related_name="dispensings")
    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        related_name="dispensings",
        db_index=False,  # `dispensing_batch_date` leads with it
    )
    dispensed_on = models.DateField()
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_unit = models.CharField(max_length=8, choices=QuantityUnit.choices)
    dose_miu_per_unit = models.DecimalField(
        max_digits=6, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    prescriber = models.CharField(max_length=120, help_text="Name and registration of the prescriber.")
    dispensed_by = models.CharField(max_length=120, help_text="Pharmacist who supplied the product.")
    dispensed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reconstituted_at = models.DateTimeField(null=True, blank=True)
    beyond_use_at = models.DateTimeField(null=True, blank=True)
    cold_chain_confirmed = models.BooleanField(
        default=False, help_text="Stored at 2–8 °C throughout, confirmed at the point of supply."
    )
    cold_chain_temperature_c = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, help_text="Fridge reading at supply, °C."
    )
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, null=True, blank=True, related_name="dispensings"
    )
    days_supplied = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(DOSING_DAYS_PER_CYCLE)],
        help_text="Dosing days this supply covers (a part supply covers fewer than the cycle's 5).",
    )
    accuracy_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accuracy_checked_at = models.DateTimeField(null=True, blank=True)

    timeline_date_field = "dispensed_on"
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "dispensings"
        ordering = ["patient", "dispensed_on"]
        indexes = [
            # The batch register counts each batch's distinct patients: an index-only scan with this.
            models.Index(fields=["batch", "patient"], name="dispensing_batch_patient"),
            # A batch's first supply, the date from which its page reads adverse events.
            models.Index(fields=["batch", "dispensed_on"], name="dispensing_batch_date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "dispensed_on", "batch"],
                name="unique_dispensing",
                violation_error_message="This batch was already dispensed to the patient on this date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.dispensed_on} {self.quantity} × {self.batch_id}"

    def clean(self) -> None:
        super().clean()
        batch = self.batch if self.batch_id else None
        previous = None
        if self.pk and batch is not None:
            previous = Dispensing.objects.filter(pk=self.pk, batch=batch).values_list("quantity", flat=True).first()
        errors = dispensing_errors(
            self,
            cycle_patient_id=self.cycle.patient_id if self.cycle_id else None,
            batch=batch,
            enrolment=Enrolment.objects.filter(patient_id=self.patient_id).select_related("route").first(),
            previous_quantity=previous,
            treatment_withdrawn_on=self.patient.treatment_withdrawn_on() if self.patient_id else None,
        )
        # The point-of-supply rules: a record the dispensing pharmacy keeps, not in imports.
        if batch is not None and self.dispensed_on and self.quantity and batch.product.is_unlicensed_special:
            errors.update(self._specials_errors(batch))
        if not self.cold_chain_confirmed:
            errors["cold_chain_confirmed"] = "Confirm the cold chain (2–8 °C) before supplying."
        if self.cycle_id and self.dispensed_on:
            errors.update(supply_errors(self, self.cycle, batch))
        if errors:
            raise ValidationError(errors)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """A specials record is kept at least 5 years (HMR 2012 reg. 170); the database refuses
        it too (a trigger, migration 0010), for deletes that bypass this method."""
        if self.is_retained_special():
            raise ValidationError("A specials record is kept for at least 5 years (reg. 170): it cannot be deleted.")
        return super().delete(*args, **kwargs)

    def is_retained_special(self) -> bool:
        if not self.batch_id or self.dispensed_on is None:
            return False
        today = timezone.localdate()
        try:
            cutoff = today.replace(year=today.year - SPECIALS_RETENTION_YEARS)
        except ValueError:  # 29 February
            cutoff = today.replace(year=today.year - SPECIALS_RETENTION_YEARS, day=28)
        return bool(self.batch.product.is_unlicensed_special and self.dispensed_on > cutoff)

    def supplied_days_before(self) -> int:
        """Dosing days of the cycle that the cycle's other supplies already cover."""
        others = Dispensing.objects.filter(cycle_id=self.cycle_id).exclude(pk=self.pk)
        return int(others.aggregate(days=models.Sum("days_supplied"))["days"] or 0)

    def last_administration_day(self) -> dt.date | None:
        """The last dosing day this supply covers (None when days supplied are not recorded)."""
        if not self.cycle_id or self.days_supplied is None:
            return None
        first = self.supplied_days_before()
        return self.cycle.start_date + dt.timedelta(days=first + self.days_supplied - 1)

    def use_by(self) -> dt.date | None:
        """The label's use-by date: the batch's expiry, or the beyond-use time if earlier."""
        if not self.batch_id:
            return None
        dates = [self.batch.expiry_date]
        if self.beyond_use_at:
            dates.append(timezone.localtime(self.beyond_use_at).date())
        return min(dates)

    def _specials_errors(self, batch: Batch) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.reconstituted_at:
            errors["reconstituted_at"] = "A reconstituted special needs its reconstitution time."
        if not self.beyond_use_at:
            errors["beyond_use_at"] = "A reconstituted special needs its beyond-use time."
        if errors or self.reconstituted_at is None or self.beyond_use_at is None:
            return errors
        if self.beyond_use_at <= self.reconstituted_at:
            errors["beyond_use_at"] = "The beyond-use time must follow reconstitution."
        limit = batch.max_hours_after_reconstitution
        if limit and self.beyond_use_at - self.reconstituted_at > dt.timedelta(hours=limit):
            errors["beyond_use_at"] = f"Beyond-use time exceeds {limit} h after reconstitution."
        if timezone.localtime(self.beyond_use_at).date() > batch.expiry_date:
            errors["beyond_use_at"] = "Beyond-use time is after the batch's expiry."
        if self.dispensed_on and timezone.localtime(self.reconstituted_at).date() > self.dispensed_on:
            errors["reconstituted_at"] = "Reconstitution cannot be after supply."
        return errors


def dispensing_errors(
    dispensing: Dispensing,
    *,
    cycle_patient_id: int | None,
    batch: Batch | None,
    enrolment: Enrolment | None,
    previous_quantity: int | None,
    stock_known: bool = True,
    treatment_withdrawn_on: dt.date | None = None,
) -> dict[str, str]:
    """A dispensing's rules that read other records, by field: the cycle is the patient's, the
    batch is usable on the day with the stock asked for, in its unit, on the patient's route.

    The one implementation, over what is passed in (the batch with its product, the enrolment
    with its route; nothing is queried), so the importer can give them from what it loaded for
    a chunk, where `Dispensing.clean()` queries them. `previous_quantity` is what this record
    already took from the same batch: stock is checked as it would be after giving it back, and
    a later recall or quarantine does not invalidate a supply already made. `stock_known` is
    False for a batch the registry never held the stock of (created by an import).
    """
    errors: dict[str, str] = {}
    if cycle_patient_id is not None and dispensing.patient_id and cycle_patient_id != dispensing.patient_id:
        errors["cycle"] = "This cycle belongs to another patient."
    if (
        treatment_withdrawn_on is not None
        and dispensing.dispensed_on
        and dispensing.dispensed_on > treatment_withdrawn_on
    ):
        errors["dispensed_on"] = (
            f"The patient withdrew from treatment on {treatment_withdrawn_on:%d %b %Y}; "
            "nothing dispensed later can be recorded."
        )
    if batch is None or not dispensing.dispensed_on or not dispensing.quantity:
        return errors
    same_batch = previous_quantity is not None
    reason = batch_unusable_reason(
        batch.batch_number,
        BatchStatus.AVAILABLE if same_batch else batch.status,
        batch.expiry_date,
        batch.quantity_remaining + (previous_quantity or 0) if stock_known else dispensing.quantity,
        batch.quantity_unit,
        dispensing.dispensed_on,
        dispensing.quantity,
    )
    if reason:
        errors["batch"] = reason
    if dispensing.quantity_unit and dispensing.quantity_unit != batch.quantity_unit:
        errors["quantity_unit"] = f"Batch {batch.batch_number} is supplied in {batch.quantity_unit}s."
    if enrolment and batch.product.route_id != enrolment.route_id:
        errors["batch"] = f"{batch.product.name} is not supplied on the patient's route ({enrolment.route})."
    return errors


def supply_errors(dispensing: Dispensing, cycle: TreatmentCycle, batch: Batch | None) -> dict[str, str]:
    """A supply's point-of-supply rules against its cycle: dispensed no earlier than the dispensing
    window before the cycle starts (`window_errors`), against the cycle's clinically checked
    prescription (`prescription_errors`; a supply already recorded is not refused for lacking one,
    as imported history may), the dosing days it covers recorded, no more than the cycle has, and
    a use-by date that covers the last administration day."""
    errors = window_errors(dispensing.dispensed_on, cycle.start_date)
    adding = dispensing._state.adding
    prescription = dispensing.prescription if dispensing.prescription_id else None
    if adding or prescription is not None:
        special = batch is not None and batch.product.is_unlicensed_special
        errors.update(
            prescription_errors(
                prescription, patient_id=dispensing.patient_id, cycle_number=cycle.cycle_number, special=special
            )
        )
    if dispensing.days_supplied is None:
        if adding:
            errors["days_supplied"] = f"Record the dosing days this supply covers (1 to {DOSING_DAYS_PER_CYCLE})."
        return errors
    before = dispensing.supplied_days_before()
    if before + dispensing.days_supplied > DOSING_DAYS_PER_CYCLE:
        errors["days_supplied"] = (
            f"Cycle {cycle.cycle_number} has {DOSING_DAYS_PER_CYCLE} dosing days and {before} are already supplied."
        )
        return errors
    last_day = dispensing.last_administration_day()
    use_by = dispensing.use_by() if batch is not None else None
    if last_day is not None and use_by is not None and use_by < last_day:
        errors["days_supplied"] = (
            f"The supply must be usable until its last dose on {last_day:%d %b %Y}, but its use-by date is "
            f"{use_by:%d %b %Y}: supply fewer days."
        )
    return errors
