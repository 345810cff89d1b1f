"""Writes that move stock other than by dispensing: goods in, transfers, patient returns,
destruction, stock counts with their discrepancies, and explanations of a reconciliation that
does not balance (issue 16, item 2).

Each takes `actor=`, checks the actor may work at the site, locks the batch row first (the
same order as dispensing, so stock changes of one batch are serialised), writes the ledger line
and the stock in one transaction, and audits the batch's total through simple-history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from access_programme import services as programme
from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Disposition,
    MovementKind,
    Product,
    ReconciliationExplanation,
    ReturnCondition,
    SiteStock,
    StockDiscrepancy,
    StockMovement,
    TemperatureExcursion,
    units_display,
)
from access_programme.selectors.stock import reconcile
from access_programme.stock import ledger
from registry.models import Site, User, check_not_in_future
from registry.roles import Area
from registry.selectors import sites_visible_to
from registry.services import audited_save, authorise_write

#: Sources a destruction takes from.
FROM_STOCK, FROM_RETURNS = "stock", "returns"


def _authorise_site(actor: User | None, site: Site) -> None:
    authorise_write(actor, Area.PHARMACY)
    if actor is not None and not sites_visible_to(actor).filter(pk=site.pk).exists():
        raise PermissionDenied("This site is not one of yours.")


def _locked(batch: Batch) -> Batch:
    return Batch.objects.select_for_update().select_related("product").get(pk=batch.pk)


def _dated(on: dt.date, field: str) -> None:
    check_not_in_future(on, field)


def batch_goods_in(*, actor: User | None, product: Product, site: Site, delivery_note: str, **fields: Any) -> Batch:
    """Receive a batch at a site against its delivery note, into quarantine until a pharmacist
    releases it (`batch_release`)."""
    _authorise_site(actor, site)
    if not delivery_note.strip():
        raise ValidationError({"delivery_note": "Give the delivery note the batch was received against."})
    fields.setdefault("quantity_remaining", fields.get("quantity_received"))
    fields.setdefault("status", BatchStatus.QUARANTINED)
    fields.setdefault("status_reason", f"Received against delivery note {delivery_note}: awaiting release.")
    with transaction.atomic():
        batch = audited_save(Batch(product=product, **fields), actor=actor)
        ledger.give(batch, site, batch.quantity_received)
        StockMovement.objects.create(
            batch=batch,
            site=site,
            kind=MovementKind.RECEIPT,
            quantity=batch.quantity_received,
            occurred_on=batch.received_on,
            recorded_by=actor,
            reference=delivery_note,
        )
    return batch


def _take_from_stock(actor: User | None, batch: Batch, site: Site, quantity: int, reason: str) -> None:
    """Take units off a site's shelf and off the batch's total (audited), under the batch lock."""
    ledger.take(batch, site, quantity, field="quantity")
    batch.quantity_remaining -= quantity
    audited_save(batch, actor=actor, reason=reason)


def stock_transfer(
    *,
    actor: User | None,
    batch: Batch,
    from_site: Site,
    to_site: Site,
    quantity: int,
    transferred_on: dt.date,
    reference: str = "",
) -> StockMovement:
    """Move units of a batch from one site's shelf to another's (two ledger lines)."""
    _authorise_site(actor, from_site)
    if from_site.pk == to_site.pk:
        raise ValidationError({"to_site": "A transfer goes to another site."})
    if quantity < 1:
        raise ValidationError({"quantity": "Transfer at least one unit."})
    _dated(transferred_on, "transferred_on")
    with transaction.atomic():
        locked = _locked(batch)
        ledger.take(locked, from_site, quantity, field="quantity")
        ledger.give(locked, to_site, quantity)
        common = {"batch": locked, "quantity": quantity, "occurred_on": transferred_on, "recorded_by": actor}
        out = StockMovement.objects.create(
            site=from_site, kind=MovementKind.TRANSFER_OUT, other_site=to_site, reference=reference, **common
        )
        StockMovement.objects.create(
            site=to_site, kind=MovementKind.TRANSFER_IN, other_site=from_site, reference=reference, **common
        )
    return out


def returned_quantity(dispensing: Dispensing) -> int:
    moved = StockMovement.objects.filter(dispensing=dispensing, kind=MovementKind.RETURNED)
    return int(moved.aggregate(total=models.Sum("quantity"))["total"] or 0)


def stock_return(
    *,
    actor: User | None,
    dispensing: Dispensing,
    quantity: int,
    condition: str,
    returned_on: dt.date,
    reason: str = "",
) -> StockMovement:
    """A patient's return of unused or partly used units: counted at the patient's site and held
    for destruction, never put back into stock."""
    authorise_write(actor, Area.PHARMACY, dispensing.patient)
    if condition not in ReturnCondition.values:
        raise ValidationError({"condition": "Say whether the units are unused or partly used."})
    _dated(returned_on, "returned_on")
    if returned_on < dispensing.dispensed_on:
        raise ValidationError({"returned_on": "A return cannot precede the supply."})
    with transaction.atomic():
        locked = _locked(dispensing.batch)
        already = returned_quantity(dispensing)
        if quantity < 1 or already + quantity > dispensing.quantity:
            raise ValidationError({"quantity": f"{dispensing.quantity} were supplied and {already} already returned."})
        return StockMovement.objects.create(
            batch=locked,
            site=dispensing.patient.site,
            kind=MovementKind.RETURNED,
            quantity=quantity,
            occurred_on=returned_on,
            recorded_by=actor,
            dispensing=dispensing,
            condition=condition,
            reason=reason,
        )


def returns_held(batch: Batch, site: Site) -> int:
    """Returned units at a site not yet destroyed."""
    totals = dict(
        StockMovement.objects.filter(
            batch=batch, site=site, kind__in=[MovementKind.RETURNED, MovementKind.DESTROYED_RETURN]
        )
        .values_list("kind")
        .annotate(total=models.Sum("quantity"))
    )
    return int(totals.get(MovementKind.RETURNED, 0)) - int(totals.get(MovementKind.DESTROYED_RETURN, 0))


def stock_destroy(
    *,
    actor: User | None,
    batch: Batch,
    site: Site,
    quantity: int,
    source: str,
    method: str,
    witness: str,
    destroyed_on: dt.date,
    reason: str = "",
) -> StockMovement:
    """Destroy units from a site's stock or from the patient returns it holds, with the method and
    a witness other than the person recording it."""
    _authorise_site(actor, site)
    errors: dict[str, str] = {}
    if source not in (FROM_STOCK, FROM_RETURNS):
        errors["source"] = "Destroy from stock or from patient returns."
    if not method.strip():
        errors["method"] = "Give the method of destruction."
    if not witness.strip():
        errors["witness"] = "Destruction is witnessed: give the witness's name."
    elif actor is not None and witness.strip().casefold() in {
        actor.username.casefold(),
        actor.get_full_name().casefold(),
    }:
        errors["witness"] = "The witness is a second person, not the one recording the destruction."
    if quantity < 1:
        errors["quantity"] = "Destroy at least one unit."
    if errors:
        raise ValidationError(errors)
    _dated(destroyed_on, "destroyed_on")
    with transaction.atomic():
        locked = _locked(batch)
        if source == FROM_STOCK:
            _take_from_stock(actor, locked, site, quantity, f"Stock: {quantity} destroyed at {site.code} ({method})")
            kind = MovementKind.DESTROYED_STOCK
        else:
            held = returns_held(locked, site)
            if quantity > held:
                raise ValidationError(
                    {"quantity": f"{site.code} holds {units_display(held, locked.quantity_unit)} returned."}
                )
            kind = MovementKind.DESTROYED_RETURN
        return StockMovement.objects.create(
            batch=locked,
            site=site,
            kind=kind,
            quantity=quantity,
            occurred_on=destroyed_on,
            recorded_by=actor,
            method=method,
            witness=witness,
            reason=reason,
        )


def stock_count(
    *, actor: User | None, batch: Batch, site: Site, counted: int, counted_on: dt.date
) -> StockDiscrepancy | None:
    """A physical count of a batch at a site; a difference from the registry's stock is kept as
    a discrepancy, listed until someone explains it."""
    _authorise_site(actor, site)
    _dated(counted_on, "counted_on")
    if counted < 0:
        raise ValidationError({"counted": "A count is zero or more."})
    with transaction.atomic():
        _locked(batch)
        row = SiteStock.objects.filter(batch=batch, site=site).first()
        expected = row.quantity if row is not None else 0
        if counted == expected:
            return None
        return StockDiscrepancy.objects.create(
            batch=batch, site=site, counted_on=counted_on, expected=expected, counted=counted, counted_by=actor
        )


def discrepancy_explain(*, actor: User | None, discrepancy: StockDiscrepancy, explanation: str) -> StockDiscrepancy:
    _authorise_site(actor, discrepancy.site)
    if not explanation.strip():
        raise ValidationError({"explanation": "Explain the difference."})
    if discrepancy.explained_at is not None:
        raise ValidationError("This discrepancy is already explained.")
    discrepancy.explanation = explanation
    discrepancy.explained_by = actor
    discrepancy.explained_at = timezone.now()
    discrepancy.save(update_fields=["explanation", "explained_by", "explained_at"])
    return discrepancy


def reconciliation_explain(
    *, actor: User | None, batch: Batch, site: Site, figures: dict[str, int], explanation: str
) -> ReconciliationExplanation:
    """Explain why a batch does not balance at a site, for the figures the person saw.

    Refused when the figures have changed since (the person must look again), or when the row
    balances. The explanation holds only for these figures: a later change makes the row
    unexplained again (`Reconciliation.explanation`)."""
    _authorise_site(actor, site)
    if not explanation.strip():
        raise ValidationError({"explanation": "Explain why the batch does not balance."})
    with transaction.atomic():
        locked = _locked(batch)  # the figures cannot move while they are compared and kept
        (whole,) = reconcile([locked], [site])
        current = whole.sites[0] if whole.sites else None
        if current is None or current.balanced:
            raise ValidationError(f"Batch {locked.batch_number} balances at {site.code}: there is nothing to explain.")
        seen = tuple(figures.get(name) for name in ReconciliationExplanation.FIGURES)
        if seen != current.figures():
            raise ValidationError(
                f"The figures of batch {locked.batch_number} at {site.code} have changed since you opened the page: "
                "look at them again before explaining."
            )
        return ReconciliationExplanation.objects.create(
            batch=locked,
            site=site,
            explanation=explanation.strip(),
            explained_by=actor,
            **{name: getattr(current, name) for name in ReconciliationExplanation.FIGURES},
        )


# --- cold chain -------------------------------------------------------------------------------


def excursion_record(
    *,
    actor: User | None,
    site: Site,
    detected_at: dt.datetime,
    detected_by: str,
    min_temperature_c: Decimal,
    max_temperature_c: Decimal,
    duration_minutes: int,
    batch: Batch | None = None,
    fridge: str = "",
) -> TemperatureExcursion:
    """Record an excursion of a batch, or of a fridge (every batch the site holds there), and
    quarantine each batch concerned while it is investigated."""
    _authorise_site(actor, site)
    errors: dict[str, str] = {}
    if min_temperature_c > max_temperature_c:
        errors["min_temperature_c"] = "The minimum is above the maximum."
    if duration_minutes < 1:
        errors["duration_minutes"] = "Give the duration in minutes."
    if not detected_by.strip():
        errors["detected_by"] = "Say who detected the excursion."
    if batch is None and not fridge.strip():
        errors["fridge"] = "Name the batch or the fridge."
    if errors:
        raise ValidationError(errors)
    _dated(detected_at.date(), "detected_at")
    held = SiteStock.objects.filter(site=site, quantity__gt=0)
    if batch is not None:
        concerned = list(Batch.objects.filter(pk=batch.pk))
    else:
        concerned = list(Batch.objects.filter(pk__in=held.values("batch_id"), storage_location=fridge))
    with transaction.atomic():
        excursion = TemperatureExcursion.objects.create(
            site=site,
            batch=batch,
            fridge=fridge,
            detected_at=detected_at,
            detected_by=detected_by,
            min_temperature_c=min_temperature_c,
            max_temperature_c=max_temperature_c,
            duration_minutes=duration_minutes,
            recorded_by=actor,
        )
        excursion.batches.set(concerned)
        reason = (
            f"Temperature excursion {min_temperature_c}–{max_temperature_c} °C for {duration_minutes} min "
            "under investigation"
        )
        for each in concerned:
            if each.status == BatchStatus.AVAILABLE:
                programme.batch_quarantine(actor=actor, batch=each, reason=reason)
    return excursion


def excursion_decide(
    *, actor: User | None, excursion: TemperatureExcursion, disposition: str, reason: str
) -> TemperatureExcursion:
    """Decide an excursion: use (the batches are released, by a pharmacist), keep in quarantine,
    or destroy (they stay quarantined until the destruction is recorded)."""
    _authorise_site(actor, excursion.site)
    if disposition not in (Disposition.USE, Disposition.QUARANTINE, Disposition.DESTROY):
        raise ValidationError({"disposition": "Choose use, quarantine or destroy."})
    if not reason.strip():
        raise ValidationError({"disposition_reason": "Give the reason for the disposition."})
    if excursion.disposition != Disposition.PENDING:
        raise ValidationError("This excursion is already decided.")
    with transaction.atomic():
        excursion.disposition = disposition
        excursion.disposition_reason = reason
        excursion.decided_by = actor
        excursion.decided_at = timezone.now()
        excursion.save(update_fields=["disposition", "disposition_reason", "decided_by", "decided_at"])
        for each in excursion.batches.all():
            still = TemperatureExcursion.objects.filter(batches=each, disposition=Disposition.PENDING).exists()
            if disposition == Disposition.USE and each.status == BatchStatus.QUARANTINED and not still:
                programme.batch_release(actor=actor, batch=each, reason=f"Excursion assessed: {reason}")
            elif disposition == Disposition.DESTROY and each.status == BatchStatus.QUARANTINED:
                programme.batch_quarantine(actor=actor, batch=each, reason=f"To be destroyed after excursion: {reason}")
    return excursion


def under_investigation(batch: Batch) -> bool:
    return TemperatureExcursion.objects.filter(batches=batch, disposition=Disposition.PENDING).exists()
