"""How patients reach IL-2LD: route, enrolment, product batches, cycles and dispensing.

Dispensing records meet the unlicensed-specials record-keeping rules (Human Medicines
Regulations 2012 reg. 170; MHRA Guidance Note 14): source and date obtained, person
supplied and date, quantity, batch number, and linked suspected adverse reactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registry.constants import CYCLE_LENGTH_DAYS, DOSING_DAYS_PER_CYCLE, PROTOCOL_DAILY_DOSE_MIU
from registry.models import NON_FIELD, ClinicalRecord, Finding, Patient, check_not_in_future, check_order, rules_today


class RouteCode(models.TextChoices):
    MANAGED_ACCESS = "managed_access", "Managed Access Programme (ILT-101)"
    NHS_SPECIALS = "nhs_specials", "NHS Specials (reconstituted Proleukin)"
    NONE = "none", "Registry only (untreated comparator)"


class Route(models.Model):
    """A way of reaching the drug. 'none' marks untreated registry-only comparators."""

    code = models.CharField(max_length=20, choices=RouteCode.choices, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_treatment(self) -> bool:
        return self.code != RouteCode.NONE


class QuantityUnit(models.TextChoices):
    SYRINGE = "syringe", "Prefilled syringe"
    VIAL = "vial", "Vial"


class ProductCode(models.TextChoices):
    ILT_101 = "ilt_101", "ILT-101 (ILTOO Pharma)"
    PROLEUKIN_SPECIALS = "proleukin_specials", "Proleukin low-dose special (reconstituted aldesleukin)"


class Product(models.Model):
    code = models.CharField(max_length=24, choices=ProductCode.choices, unique=True)
    name = models.CharField(max_length=120)
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="products")
    manufacturer = models.CharField(max_length=120)
    is_unlicensed_special = models.BooleanField(default=False)
    storage_conditions = models.CharField(max_length=200, default="2–8 °C, protect from light, do not freeze")

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    QUARANTINED = "quarantined", "Quarantined"
    RECALLED = "recalled", "Recalled"


class Batch(ClinicalRecord):
    """A received lot. Stock is decremented only by the dispensing service, under a row lock."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    batch_number = models.CharField(max_length=40)
    expiry_date = models.DateField()
    supplier = models.CharField(max_length=200, help_text="Source the product was obtained from.")
    manufacturer_licence = models.CharField(
        max_length=60, blank=True, help_text="Specials manufacturer's licence (MS) number, for unlicensed specials."
    )
    received_on = models.DateField()
    quantity_received = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_remaining = models.PositiveIntegerField()
    quantity_unit = models.CharField(max_length=8, choices=QuantityUnit.choices)
    dose_miu_per_unit = models.DecimalField(
        max_digits=6, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    max_hours_after_reconstitution = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Beyond-use limit after reconstitution from the specials manufacturer's certificate. "
            "The Proleukin SmPC allows 24 h at 2–8 °C for a reconstituted vial, 48 h for a diluted solution."
        ),
    )
    storage_location = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.AVAILABLE)
    status_reason = models.TextField(blank=True)
    certificate_reference = models.CharField(
        max_length=120, blank=True, help_text="Certificate of conformity / analysis reference."
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "batches"
        ordering = ["expiry_date", "batch_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "batch_number"],
                name="unique_batch_per_product",
                violation_error_message="This batch number is already registered for the product.",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_remaining__lte=models.F("quantity_received")),
                name="stock_not_above_received",
                violation_error_message="Stock cannot exceed the quantity received.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_number} (exp {self.expiry_date:%d %b %Y})"

    def clean(self) -> None:
        super().clean()
        if self.received_on:
            check_not_in_future(self.received_on, "received_on")
        check_order(self.received_on, self.expiry_date, "expiry_date", "The batch expired before it was received.")
        received, remaining = self.quantity_received, self.quantity_remaining
        if received is not None and remaining is not None and remaining > received:
            raise ValidationError({"quantity_remaining": "Stock cannot exceed the quantity received."})
        if self.product_id and self.product.is_unlicensed_special:
            if not self.manufacturer_licence:
                raise ValidationError(
                    {"manufacturer_licence": "An unlicensed special needs its manufacturer's specials licence number."}
                )
            if not self.max_hours_after_reconstitution:
                raise ValidationError(
                    {"max_hours_after_reconstitution": "Give the beyond-use limit from the manufacturer's certificate."}
                )
        if self.status != BatchStatus.AVAILABLE and not self.status_reason:
            raise ValidationError({"status_reason": "Give the reason for quarantine or recall."})

    def unusable_reason(self, on: dt.date, quantity: int = 1) -> str | None:
        """Why this batch cannot be dispensed on a date, or None if it can."""
        return batch_unusable_reason(
            self.batch_number, self.status, self.expiry_date, self.quantity_remaining, self.quantity_unit, on, quantity
        )


def batch_unusable_reason(
    batch_number: str, status: str, expiry_date: dt.date, remaining: int, unit: str, on: dt.date, quantity: int
) -> str | None:
    """`Batch.unusable_reason()` over plain values, so a dispensing can be checked against the
    stock and status it would have (its own earlier supply given back) without a stand-in batch."""
    if status == BatchStatus.RECALLED:
        return f"Batch {batch_number} is recalled."
    if status == BatchStatus.QUARANTINED:
        return f"Batch {batch_number} is quarantined."
    if expiry_date < on:
        return f"Batch {batch_number} expired on {expiry_date:%d %b %Y}."
    if quantity > remaining:
        return f"Batch {batch_number} has only {remaining} {unit}(s) left."
    return None


class Enrolment(ClinicalRecord):
    """Inclusion in the programme by one route, with the MIROCALS eligibility check.

    Unmet criteria do not block enrolment (real-world use differs from the trial); they are
    recorded, and the clinician must justify proceeding.
    """

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="enrolment")
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="enrolments")
    enrolment_date = models.DateField(help_text="Date of consent and inclusion.")
    first_dose_date = models.DateField(null=True, blank=True)
    treating_clinician = models.CharField(max_length=120, blank=True)
    meets_mirocals_criteria = models.BooleanField(editable=False, default=False)
    unmet_criteria = models.JSONField(default=list, blank=True, editable=False)
    eligibility_justification = models.TextField(blank=True)

    timeline_date_field = "enrolment_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["-enrolment_date"]

    def __str__(self) -> str:
        return f"{self.patient} via {self.route.code}"

    def clean(self) -> None:
        super().clean()
        if self.first_dose_date:
            check_not_in_future(self.first_dose_date, "first_dose_date")
            check_order(
                self.enrolment_date, self.first_dose_date, "first_dose_date", "The first dose precedes enrolment."
            )
            if self.route_id and not self.route.is_treatment:
                raise ValidationError({"first_dose_date": "Registry-only (untreated) patients have no first dose."})
        if self.patient_id:
            try:
                diagnosis = self.patient.diagnosis
            except ObjectDoesNotExist:
                diagnosis = None
            if diagnosis is not None:
                check_order(
                    diagnosis.diagnosis_date, self.enrolment_date, "enrolment_date", "Enrolment precedes diagnosis."
                )
        if self.unmet_criteria and not self.eligibility_justification.strip():
            unmet = "; ".join(c["message"] for c in self.unmet_criteria)
            raise ValidationError(
                {"eligibility_justification": f"MIROCALS criteria not met ({unmet}): justify enrolling."}
            )


class TreatmentCycle(ClinicalRecord):
    """A 28-day cycle: 2 MIU subcutaneously on days 1 to 5."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cycles")
    cycle_number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    start_date = models.DateField()
    planned_dose_miu = models.DecimalField(max_digits=5, decimal_places=2, default=PROTOCOL_DAILY_DOSE_MIU)
    days_administered = models.PositiveSmallIntegerField(
        default=DOSING_DAYS_PER_CYCLE, validators=[MaxValueValidator(DOSING_DAYS_PER_CYCLE)]
    )
    total_dose_miu = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    interrupted = models.BooleanField(default=False)
    interruption_reason = models.TextField(blank=True)

    timeline_date_field = "start_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "cycle_number"]
        # The worklist and the "cycle overdue" filter look for patients with a cycle started lately.
        indexes = [models.Index(fields=["start_date", "patient"], name="cycle_start_date_patient")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "cycle_number"],
                name="unique_cycle_number",
                violation_error_message="This cycle number is already recorded for the patient.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} cycle {self.cycle_number}"

    @property
    def doses_missed(self) -> int:
        return DOSING_DAYS_PER_CYCLE - (self.days_administered or 0)

    @classmethod
    def timeline_fields(cls) -> tuple[str, ...]:
        return ("start_date", "days_administered")

    def timeline_dates(self) -> list[tuple[str, dt.date]]:
        """The start and the last dosing day so far: no dose may be given after the patient's death.

        A cycle under way counts its planned days only up to today, so opening one is not a
        date "in the future".
        """
        dates = super().timeline_dates()
        if self.start_date is not None and self.days_administered:
            last_dose = self.start_date + dt.timedelta(days=self.days_administered - 1)
            dates.append(("days_administered", min(last_dose, rules_today())))
        return dates

    @property
    def next_due_date(self) -> dt.date:
        return next_cycle_due(self.start_date)

    def clean(self) -> None:
        super().clean()
        if self.patient_id:
            enrolment = Enrolment.objects.filter(patient_id=self.patient_id).select_related("route").first()
            siblings = TreatmentCycle.objects.filter(patient_id=self.patient_id)
            cycle_errors(self, enrolment=enrolment, siblings=siblings.values_list("cycle_number", "start_date", "pk"))


def next_cycle_due(start_date: dt.date) -> dt.date:
    return start_date + dt.timedelta(days=CYCLE_LENGTH_DAYS)


#: Another cycle of the patient as the schedule reads it: (number, start date, primary key, or
#: None for a cycle not saved yet). A cycle whose primary key is the checked cycle's is itself.
CycleStart = tuple[int, dt.date, int | None]


def _neighbours(cycle: TreatmentCycle, siblings: Iterable[CycleStart]) -> tuple[CycleStart | None, CycleStart | None]:
    """The patient's cycles just before and just after this one, by number (itself excluded)."""
    number, pk = cycle.cycle_number, cycle.pk
    previous: CycleStart | None = None
    following: CycleStart | None = None
    for sibling in siblings:
        other, _, other_pk = sibling
        if other_pk is not None and other_pk == pk:
            continue
        if other < number and (previous is None or other > previous[0]):
            previous = sibling
        elif other > number and (following is None or other < following[0]):
            following = sibling
    return previous, following


def _check_spacing(cycle: TreatmentCycle, siblings: Iterable[CycleStart]) -> None:
    """At least 28 days from the previous cycle's start, and to the next one's."""
    previous, following = _neighbours(cycle, siblings)
    if previous is not None:
        previous_number, previous_start, _ = previous
        earliest = next_cycle_due(previous_start)
        if cycle.start_date < earliest:
            raise ValidationError(
                {
                    "start_date": (
                        f"Cycle {cycle.cycle_number} starts {(cycle.start_date - previous_start).days} days after "
                        f"cycle {previous_number}; cycles are at least {CYCLE_LENGTH_DAYS} days apart "
                        f"(earliest {earliest:%d %b %Y})."
                    )
                }
            )
    if following is not None and following[1] < cycle.next_due_date:
        raise ValidationError(
            {"start_date": f"Cycle {following[0]} would start less than {CYCLE_LENGTH_DAYS} days later."}
        )


def cycle_errors(cycle: TreatmentCycle, *, enrolment: Enrolment | None, siblings: Iterable[CycleStart]) -> None:
    """A cycle's rules after the timeline's, in order: treatment route, cycle 1 on the first dose
    date, not before enrolment, 28 days from the previous and the next cycle, dose, interruption.

    The one implementation, over what is passed in (the enrolment with its route loaded; nothing
    is queried), so the importer can give the patient's cycles from what it loaded for a chunk
    plus the rows it accepted, where `TreatmentCycle.clean()` queries them.
    """
    if cycle.start_date is None or cycle.cycle_number is None:
        return
    if enrolment is None or not enrolment.route.is_treatment:
        raise ValidationError({NON_FIELD: "Only patients enrolled on a treatment route have cycles."})
    if cycle.cycle_number == 1 and enrolment.first_dose_date and cycle.start_date != enrolment.first_dose_date:
        raise ValidationError(
            {"start_date": f"Cycle 1 starts on the first dose date ({enrolment.first_dose_date:%d %b %Y})."}
        )
    check_order(enrolment.enrolment_date, cycle.start_date, "start_date", "The cycle starts before enrolment.")
    _check_spacing(cycle, siblings)
    if cycle.total_dose_miu is not None and cycle.planned_dose_miu is not None:
        maximum = cycle.planned_dose_miu * (cycle.days_administered or 0)
        if cycle.total_dose_miu > maximum:
            raise ValidationError(
                {
                    "total_dose_miu": f"{cycle.total_dose_miu} MIU exceeds {cycle.days_administered} days × "
                    f"{cycle.planned_dose_miu} MIU."
                }
            )
    if cycle.interrupted and not cycle.interruption_reason.strip():
        raise ValidationError({"interruption_reason": "Give the reason the cycle was interrupted."})


def cycle_findings(cycle: TreatmentCycle, *, today: dt.date) -> list[Finding]:
    """What a data manager should query about a cycle, without refusing it: doses missed with no
    interruption recorded once the dosing days are over (by `today`: the day of entry, or the
    data cut-off of an imported file). The record is kept; the finding becomes a query."""
    if cycle.start_date is None or cycle.days_administered is None:
        return []
    dosing_over = cycle.start_date + dt.timedelta(days=DOSING_DAYS_PER_CYCLE) <= today
    if dosing_over and cycle.doses_missed and not cycle.interrupted:
        return [
            Finding(
                rule=MISSED_DOSES_RULE,
                field="interrupted",
                message=(
                    f"{cycle.doses_missed} dose(s) missed and the cycle is not marked interrupted: give the reason."
                ),
            )
        ]
    return []


MISSED_DOSES_RULE = "cycle_missed_doses"


class Dispensing(ClinicalRecord):
    """One supply of product to a patient for a cycle (specials record-keeping, reg. 170)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="dispensings")
    cycle = models.ForeignKey(TreatmentCycle, on_delete=models.PROTECT, related_name="dispensings")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="dispensings")
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

    timeline_date_field = "dispensed_on"
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "dispensings"
        ordering = ["patient", "dispensed_on"]
        # The batch register counts each batch's distinct patients: an index-only scan with this.
        indexes = [models.Index(fields=["batch", "patient"], name="dispensing_batch_patient")]
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
        )
        # The point-of-supply rules: a record the dispensing pharmacy keeps, not in imports.
        if batch is not None and self.dispensed_on and self.quantity and batch.product.is_unlicensed_special:
            errors.update(self._specials_errors(batch))
        if not self.cold_chain_confirmed:
            errors["cold_chain_confirmed"] = "Confirm the cold chain (2–8 °C) before supplying."
        if errors:
            raise ValidationError(errors)

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
