"""Routes to the drug and the products supplied on them (reference data)."""

from __future__ import annotations

from django.db import models


class RouteCode(models.TextChoices):
    MANAGED_ACCESS = "managed_access", "Managed Access Programme (ILT-101)"
    NHS_SPECIALS = "nhs_specials", "NHS Specials (reconstituted Proleukin)"
    NONE = "none", "Registry only (untreated comparator)"


ROUTE_SHORT_NAMES: dict[str, str] = {
    RouteCode.MANAGED_ACCESS: "MAP (ILT-101)",
    RouteCode.NHS_SPECIALS: "NHS Specials",
    RouteCode.NONE: "Registry only",
}


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

    @property
    def short_name(self) -> str:
        """The name a table cell shows (patient list, dispensing worklist)."""
        return ROUTE_SHORT_NAMES.get(self.code, self.name)


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
