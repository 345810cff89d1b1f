"""Per-site stock under the batch's row lock: the one place site stock goes up or down.

Callers hold the batch row lock (`select_for_update`) for the whole transaction, so two
pharmacists taking the last units of a batch are serialised; the CHECK constraint
`site_stock_not_negative` refuses a negative quantity even to a writer that skipped the lock.
A batch received before per-site tracking (no stock row at any site) is tracked by its total
alone.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from access_programme.models import Batch, SiteStock, units_display
from registry.models import Site


def is_tracked(batch: Batch) -> bool:
    return SiteStock.objects.filter(batch=batch).exists()


def take(batch: Batch, site: Site, quantity: int, *, field: str = "batch") -> None:
    """Take units from a site's shelf; refused when the site holds fewer."""
    row = SiteStock.objects.select_for_update().filter(batch=batch, site=site).first()
    held = row.quantity if row is not None else 0
    if row is None or quantity > held:
        raise ValidationError(
            {field: f"Batch {batch.batch_number}: {site.code} holds {units_display(held, batch.quantity_unit)}."}
        )
    row.quantity -= quantity
    row.save(update_fields=["quantity"])


def give(batch: Batch, site: Site, quantity: int) -> None:
    """Put units on a site's shelf (a receipt, a transfer in, a corrected supply given back)."""
    row, _ = SiteStock.objects.select_for_update().get_or_create(batch=batch, site=site)
    row.quantity += quantity
    row.save(update_fields=["quantity"])
