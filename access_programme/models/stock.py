"""Accountability for stock from receipt to destruction, per batch and per site.

`SiteStock` holds what a site has of a batch on its shelves (never negative: a CHECK constraint,
and every change made under the batch's row lock). `StockMovement` is the append-only ledger of
what came in and went out other than by dispensing (receipts against a delivery note, transfers
between sites, patient returns, destruction with its method and witness). Dispensed quantities
are read from the dispensing records themselves, so a corrected supply is counted as corrected.
Patient returns are counted and destroyed, never put back into stock.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from access_programme.models.batches import Batch
from access_programme.models.dispensing import Dispensing
from registry.models import Site


class SiteStock(models.Model):
    """Units of a batch on a site's shelves."""

    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        related_name="site_stock",
        db_index=False,  # `one_stock_row_per_batch_and_site` leads with it
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="batch_stock")
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["batch", "site"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "site"], name="one_stock_row_per_batch_and_site"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0),
                name="site_stock_not_negative",
                violation_error_message="Stock cannot go below zero.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch.batch_number} at {self.site.code}: {self.quantity}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Received against a delivery note"
    TRANSFER_IN = "transfer_in", "Transferred in"
    TRANSFER_OUT = "transfer_out", "Transferred out"
    RETURNED = "returned", "Returned by a patient"
    DESTROYED_STOCK = "destroyed_stock", "Destroyed from stock"
    DESTROYED_RETURN = "destroyed_return", "Patient return destroyed"


class ReturnCondition(models.TextChoices):
    UNUSED = "unused", "Unused"
    PART_USED = "part_used", "Partly used"


class StockMovement(models.Model):
    """One line of the stock ledger. Append-only (registry.audit_guard): a mistake is corrected by
    a further movement with its reason, never by rewriting a line."""

    append_only = True

    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        related_name="movements",
        db_index=False,  # `movement_batch_site_kind` leads with it
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="stock_movements")
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    occurred_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    reference = models.CharField(max_length=120, blank=True, help_text="Delivery note or transfer reference.")
    other_site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="A transfer's other end."
    )
    dispensing = models.ForeignKey(
        Dispensing, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_movements"
    )
    condition = models.CharField(max_length=10, choices=ReturnCondition.choices, blank=True)
    method = models.CharField(max_length=200, blank=True, help_text="How the stock was destroyed.")
    witness = models.CharField(max_length=120, blank=True, help_text="Who witnessed the destruction.")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_on", "pk"]
        indexes = [models.Index(fields=["batch", "site", "kind"], name="movement_batch_site_kind")]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="movement_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} × {self.batch_id} at {self.site_id}"


class StockDiscrepancy(models.Model):
    """A physical count that differs from the stock the registry holds; listed until explained."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="discrepancies")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="stock_discrepancies")
    counted_on = models.DateField()
    expected = models.PositiveIntegerField()
    counted = models.PositiveIntegerField()
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    explanation = models.TextField(blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["counted_on", "pk"]
        verbose_name_plural = "stock discrepancies"

    def __str__(self) -> str:
        return f"{self.batch_id} at {self.site_id}: counted {self.counted}, expected {self.expected}"

    @property
    def difference(self) -> int:
        return self.counted - self.expected


def unaccounted(figures: tuple[int, ...]) -> int:
    """Units unaccounted for in a batch's reconciliation figures (`ReconciliationExplanation.FIGURES`
    order): received + transferred in - (in stock + dispensed + destroyed from stock + transferred
    out); positive: missing, negative: more found than came in. The one statement of the equation,
    for the live figures (`selectors.stock.Reconciliation`) and the ones an explanation was given for."""
    received, transferred_in, in_stock, dispensed, destroyed_from_stock, transferred_out = figures
    return (received + transferred_in) - (in_stock + dispensed + destroyed_from_stock + transferred_out)


class ReconciliationExplanation(models.Model):
    """Why a batch's reconciliation at a site does not balance, for the figures it was given for.

    Append-only (registry.audit_guard): the row is its own audit entry (who, when, what). It
    explains only the figures it records: once any of them changes, the row is unexplained again
    and needs a further explanation.
    """

    append_only = True

    #: The reconciliation figures an explanation is given for, in the balance's order.
    FIGURES = ("received", "transferred_in", "in_stock", "dispensed", "destroyed_from_stock", "transferred_out")

    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        related_name="reconciliation_explanations",
        db_index=False,  # `explanation_batch_site` leads with it
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="reconciliation_explanations")
    received = models.PositiveIntegerField()
    transferred_in = models.PositiveIntegerField()
    in_stock = models.PositiveIntegerField()
    dispensed = models.PositiveIntegerField()
    destroyed_from_stock = models.PositiveIntegerField()
    transferred_out = models.PositiveIntegerField()
    explanation = models.TextField()
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    explained_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-explained_at", "-pk"]
        indexes = [models.Index(fields=["batch", "site", "-explained_at"], name="explanation_batch_site")]

    def __str__(self) -> str:
        return f"Explanation of {self.batch_id} at {self.site_id} ({self.balance:+d})"

    def figures(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in self.FIGURES)

    @property
    def balance(self) -> int:
        """Units unaccounted for when it was explained."""
        return unaccounted(self.figures())


class Disposition(models.TextChoices):
    PENDING = "pending", "Under investigation"
    USE = "use", "Use: the product is fit to use"
    QUARANTINE = "quarantine", "Keep in quarantine"
    DESTROY = "destroy", "Destroy"


class TemperatureExcursion(models.Model):
    """A cold-chain excursion of a batch, or of a fridge at a site (every batch it holds).

    While its disposition is pending the batches concerned are quarantined and cannot be
    dispensed; the disposition (use, quarantine, destroy) is decided with its reason.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="excursions")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="excursions")
    fridge = models.CharField(max_length=120, blank=True, help_text="The fridge or store, for a fridge excursion.")
    detected_at = models.DateTimeField()
    detected_by = models.CharField(max_length=120)
    min_temperature_c = models.DecimalField(max_digits=4, decimal_places=1)
    max_temperature_c = models.DecimalField(max_digits=4, decimal_places=1)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    batches = models.ManyToManyField(Batch, related_name="+", blank=True, help_text="Batches the excursion concerns.")
    disposition = models.CharField(max_length=12, choices=Disposition.choices, default=Disposition.PENDING)
    disposition_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_temperature_c__lte=models.F("max_temperature_c")),
                name="excursion_min_not_above_max",
            ),
        ]

    def __str__(self) -> str:
        return f"Excursion {self.min_temperature_c}–{self.max_temperature_c} °C at {self.site_id}"
