"""The demo pharmacy's stock: batches received over the programme, first expiry first out,
one recalled and one quarantined at the end."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from simple_history.utils import bulk_update_with_history

from access_programme.demo_cohort.common import DEMO_REASON, PROGRAMME_START
from access_programme.models import Batch, BatchStatus, Product, ProductCode, QuantityUnit
from access_programme.recipients import recipient_count_refill
from registry.bulk import bulk_insert_with_history


@dataclass
class _BatchStock:
    batch: Batch
    remaining: int


class DemoStock:
    """Batches on the shelf and what is left of each while the cohort is generated."""

    def __init__(self, *, products: dict[str, Product], as_of: dt.date) -> None:
        self.products = products
        self.as_of = as_of
        self.stock: dict[str, list[_BatchStock]] = {}

    def create_batches(self) -> int:
        """Batches received every six weeks over the programme, ample stock, one recalled, one quarantined."""
        batches: list[Batch] = []
        for code, prefix, shelf_days, unit in (
            (ProductCode.PROLEUKIN_SPECIALS, "SPX", 180, QuantityUnit.SYRINGE),
            (ProductCode.ILT_101, "ILT", 365, QuantityUnit.SYRINGE),
        ):
            product = self.products[code]
            received = PROGRAMME_START - dt.timedelta(days=30)
            number = 1
            while received <= self.as_of:
                batches.append(
                    Batch(
                        product=product,
                        batch_number=f"{prefix}{received:%y%m}-{number:03d}",
                        expiry_date=received + dt.timedelta(days=shelf_days),
                        supplier="Synthetic Specials Ltd" if product.is_unlicensed_special else "ILTOO Pharma",
                        manufacturer_licence="MS 12345" if product.is_unlicensed_special else "",
                        max_hours_after_reconstitution=168 if product.is_unlicensed_special else None,
                        received_on=received,
                        quantity_received=1_000_000,
                        quantity_remaining=1_000_000,
                        quantity_unit=unit,
                        dose_miu_per_unit=Decimal("2.000"),
                        storage_location="Pharmacy fridge 2",
                        certificate_reference=f"CoC-{prefix}-{number:03d}",
                    )
                )
                received += dt.timedelta(days=42)
                number += 1
        bulk_insert_with_history(batches, Batch, reason=DEMO_REASON)
        created = list(
            Batch.objects.filter(batch_number__in=[b.batch_number for b in batches]).select_related("product")
        )
        for batch in created:
            self.stock.setdefault(batch.product.code, []).append(_BatchStock(batch, batch.quantity_received))
        for stocks in self.stock.values():
            stocks.sort(key=lambda s: (s.batch.expiry_date, s.batch.batch_number))
        return len(created)

    def pick_batch(self, product_code: str, on: dt.date, quantity: int) -> Batch:
        for stock in self.stock[product_code]:  # first expiry, first out
            usable = stock.batch.received_on <= on and stock.batch.expiry_date >= on + dt.timedelta(days=7)
            if usable and stock.remaining >= quantity:
                stock.remaining -= quantity
                return stock.batch
        raise RuntimeError(f"No usable {product_code} batch on {on}")

    def finish_batches(self) -> None:
        """Write final stock, then quarantine one unused and recall one used batch (with reasons)."""
        batches = []
        for stocks in self.stock.values():
            for stock in stocks:
                stock.batch.quantity_remaining = stock.remaining
                batches.append(stock.batch)
        recipient_count_refill([b.pk for b in batches])  # every supply is written by now
        counted = dict(Batch.objects.filter(pk__in=[b.pk for b in batches]).values_list("pk", "recipient_count"))
        for batch in batches:
            batch.recipient_count = counted[batch.pk]  # for the history row below
        bulk_update_with_history(
            batches, Batch, ["quantity_remaining"], default_change_reason="Demo stock after dispensing"
        )
        specials = self.stock.get(ProductCode.PROLEUKIN_SPECIALS, [])
        used = [s.batch for s in specials if s.remaining < s.batch.quantity_received]
        unused = [s.batch for s in specials if s.remaining == s.batch.quantity_received]
        if used:
            recalled = used[len(used) // 2]
            recalled.status, recalled.status_reason = BatchStatus.RECALLED, "Demo: sterility failure on retained sample"
            bulk_update_with_history([recalled], Batch, ["status", "status_reason"], default_change_reason="Recall")
        if unused:
            held = unused[-1]
            held.status, held.status_reason = BatchStatus.QUARANTINED, "Demo: fridge excursion to 11 °C in transit"
            bulk_update_with_history([held], Batch, ["status", "status_reason"], default_change_reason="Quarantine")
