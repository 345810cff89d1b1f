"""Product batches: a received lot, its status and stock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from access_programme.models.products import Product, QuantityUnit
from registry.models import ClinicalRecord, check_not_in_future, check_order


class BatchStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    QUARANTINED = "quarantined", "Quarantined"
    RECALLED = "recalled", "Recalled"


class Batch(ClinicalRecord):
    """A received lot. Stock is decremented, and the recipients counted, only by the dispensing
    services and the import, under a row lock."""

    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="batches",
        db_index=False,  # `unique_batch_per_product` leads with it
    )
    batch_number = models.CharField(max_length=40)
    expiry_date = models.DateField()
    supplier = models.CharField(max_length=200, help_text="Source the product was obtained from.")
    manufacturer_licence = models.CharField(
        max_length=60, blank=True, help_text="Specials manufacturer's licence (MS) number, for unlicensed specials."
    )
    received_on = models.DateField()
    quantity_received = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_remaining = models.PositiveIntegerField()
    recipient_count = models.PositiveIntegerField(
        default=0, editable=False, help_text="Distinct patients supplied from the batch (access_programme.recipients)."
    )
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
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
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

    def status_on(self, today: dt.date) -> str:
        """The status a person should read: an expired batch is "Expired", never "Available"."""
        if self.status == BatchStatus.AVAILABLE and self.expiry_date < today:
            return "Expired"
        return self.get_status_display()

    @property
    def stock_display(self) -> str:
        """Whole units with their unit: "35 prefilled syringes"."""
        return units_display(self.quantity_remaining, self.quantity_unit)

    def unusable_reason(self, on: dt.date, quantity: int = 1) -> str | None:
        """Why this batch cannot be dispensed on a date, or None if it can."""
        return batch_unusable_reason(
            self.batch_number, self.status, self.expiry_date, self.quantity_remaining, self.quantity_unit, on, quantity
        )


def units_display(quantity: int, unit: str) -> str:
    label = QuantityUnit(unit).label.lower() if unit in QuantityUnit.values else unit
    return f"{quantity} {label}{'' if quantity == 1 else 's'}"


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
