"""Stock reconciliation per batch and per site, and the discrepancies still to explain.

For each batch at each site: received + transferred in = in stock + dispensed + destroyed from
stock + transferred out. Patient returns are shown beside it (counted and destroyed, never
restocked), so they do not enter the balance. A batch is reconciled once it has a receipt in the
ledger (batches registered before per-site tracking have none).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, Min, OuterRef

from access_programme.models import (
    Batch,
    Dispensing,
    MovementKind,
    RecallNotice,
    ReconciliationExplanation,
    SiteStock,
    StockDiscrepancy,
    StockMovement,
    TemperatureExcursion,
    unaccounted,
)
from registry.models import AdverseEvent, Site, User
from registry.selectors import records_visible_to, sites_visible_to


@dataclass
class Reconciliation:
    batch: Batch
    site: Site | None  # None: the batch across every site
    received: int = 0
    transferred_in: int = 0
    in_stock: int = 0
    dispensed: int = 0
    destroyed_from_stock: int = 0
    transferred_out: int = 0
    returned: int = 0
    returns_destroyed: int = 0
    sites: list[Reconciliation] = field(default_factory=list)
    #: The latest explanation given for this batch at this site, whatever figures it was for.
    last_explanation: ReconciliationExplanation | None = None

    @property
    def balance(self) -> int:
        """Units unaccounted for (positive: missing; negative: more found than came in)."""
        return unaccounted(self.figures())

    @property
    def balanced(self) -> bool:
        return self.balance == 0

    def figures(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in ReconciliationExplanation.FIGURES)

    @property
    def explanation(self) -> ReconciliationExplanation | None:
        """The explanation of these very figures: none once any figure has changed since."""
        last = self.last_explanation
        return last if last is not None and last.figures() == self.figures() else None

    @property
    def returns_held(self) -> int:
        return self.returned - self.returns_destroyed


_KIND_FIELD = {
    MovementKind.RECEIPT: "received",
    MovementKind.TRANSFER_IN: "transferred_in",
    MovementKind.TRANSFER_OUT: "transferred_out",
    MovementKind.DESTROYED_STOCK: "destroyed_from_stock",
    MovementKind.RETURNED: "returned",
    MovementKind.DESTROYED_RETURN: "returns_destroyed",
}


def reconcile(batches: list[Batch], sites: list[Site] | None = None) -> list[Reconciliation]:
    """One reconciliation per batch (all sites) with its per-site rows (the given sites only):
    three grouped queries, whatever the number of batches."""
    ids = [b.pk for b in batches]
    site_by_id = {s.pk: s for s in Site.objects.all()}
    rows: dict[tuple[int, int], Reconciliation] = {}
    by_batch = {b.pk: Reconciliation(batch=b, site=None) for b in batches}

    def cell(batch_id: int, site_id: int) -> Reconciliation:
        key = (batch_id, site_id)
        if key not in rows:
            rows[key] = Reconciliation(batch=by_batch[batch_id].batch, site=site_by_id[site_id])
        return rows[key]

    moved = (
        StockMovement.objects.filter(batch_id__in=ids)
        .values_list("batch_id", "site_id", "kind")
        .annotate(total=models.Sum("quantity"))
    )
    for batch_id, site_id, kind, total in moved:
        name = _KIND_FIELD[MovementKind(kind)]
        setattr(cell(batch_id, site_id), name, getattr(cell(batch_id, site_id), name) + total)
    for batch_id, site_id, quantity in SiteStock.objects.filter(batch_id__in=ids).values_list(
        "batch_id", "site_id", "quantity"
    ):
        cell(batch_id, site_id).in_stock += quantity
    dispensed = (
        Dispensing.objects.filter(batch_id__in=ids)
        .values_list("batch_id", "patient__site_id")
        .annotate(total=models.Sum("quantity"))
    )
    for batch_id, site_id, total in dispensed:
        cell(batch_id, site_id).dispensed += total
    wanted = None if sites is None else {s.pk for s in sites}
    for (batch_id, site_id), row in sorted(rows.items(), key=lambda item: (item[0][0], row_code(item[1]))):
        whole = by_batch[batch_id]
        for name in (*_KIND_FIELD.values(), "in_stock", "dispensed"):
            setattr(whole, name, getattr(whole, name) + getattr(row, name))
        if wanted is None or site_id in wanted:
            whole.sites.append(row)
    return [by_batch[b.pk] for b in batches]


def row_code(row: Reconciliation) -> str:
    return row.site.code if row.site is not None else ""


def tracked_batches() -> models.QuerySet[Batch]:
    """Batches received into the per-site ledger."""
    received = StockMovement.objects.filter(kind=MovementKind.RECEIPT).values("batch_id")
    return Batch.objects.filter(pk__in=received).select_related("product").order_by("expiry_date", "batch_number")


@dataclass(frozen=True)
class ReconciliationReport:
    batches: list[Reconciliation]
    unbalanced: list[Reconciliation]  # per-site rows at the user's sites that do not balance, unexplained
    explained: list[Reconciliation]  # per-site rows that do not balance, explained for their current figures
    discrepancies: list[StockDiscrepancy]  # counts that differ, not yet explained


def attach_explanations(rows: list[Reconciliation]) -> None:
    """Give each per-site row its latest explanation (one query; explanations are few, so the
    latest per batch and site is picked here rather than by PostgreSQL's DISTINCT ON)."""
    if not rows:
        return
    wanted = models.Q()
    for row in rows:
        wanted |= models.Q(batch_id=row.batch.pk, site_id=row.site.pk if row.site else None)
    oldest_first = (
        ReconciliationExplanation.objects.filter(wanted).select_related("explained_by").order_by("explained_at", "pk")
    )
    by_key: dict[tuple[int, int | None], ReconciliationExplanation] = {(e.batch_id, e.site_id): e for e in oldest_first}
    for row in rows:
        row.last_explanation = by_key.get((row.batch.pk, row.site.pk if row.site else None))


def reconciliation_report(user: User) -> ReconciliationReport:
    sites = list(sites_visible_to(user))
    batches = reconcile(list(tracked_batches()), sites)
    off = [row for whole in batches for row in whole.sites if not row.balanced]
    attach_explanations(off)
    discrepancies = list(
        StockDiscrepancy.objects.filter(site__in=sites, explained_at__isnull=True)
        .select_related("batch", "site", "counted_by")
        .order_by("counted_on", "pk")
    )
    return ReconciliationReport(
        batches,
        [row for row in off if row.explanation is None],
        [row for row in off if row.explanation is not None],
        discrepancies,
    )


def batch_ledger(batch: Batch) -> list[StockMovement]:
    return list(
        StockMovement.objects.filter(batch=batch)
        .select_related("site", "other_site", "recorded_by", "dispensing__patient")
        .order_by("occurred_on", "pk")
    )


#: How many of a batch's recipients' adverse events its page lists; the CSV has them all.
RECIPIENT_ADVERSE_EVENTS_SHOWN = 200

#: Columns of the recipients' adverse events CSV, in order.
RECIPIENT_ADVERSE_EVENTS_CSV_HEADER = (
    "study_id",
    "site",
    "term",
    "ctcae_grade",
    "serious",
    "onset_date",
    "resolution_date",
    "batch",
)


@dataclass(frozen=True)
class RecipientAdverseEvents:
    """The first adverse events of a batch's recipients, by onset, and whether there are more
    than the page lists (then the page says so and offers them all as CSV)."""

    events: list[AdverseEvent]
    more: bool


def _recipient_adverse_events(user: User, batch: Batch) -> models.QuerySet[AdverseEvent]:
    """Adverse events of patients (at the user's sites) with onset on or after a supply from the
    batch: what pharmacovigilance of an unlicensed product reads from a batch's page.

    No such event began before the batch's first supply, so the events are read from that date
    on (the `adverse_event_onset` index), not from the first event of the sites: the same events,
    in what a batch's lifetime holds rather than in all the registry's years (a batch of 40,000
    recipients at 100,000 patients: 50-190 -> 10-40 ms, docs/benchmarks.md)."""
    first_supply = Dispensing.objects.filter(batch=batch).aggregate(first=Min("dispensed_on"))["first"]
    if first_supply is None:
        return AdverseEvent.objects.none()
    supplied_before = Dispensing.objects.filter(
        batch=batch, patient=OuterRef("patient"), dispensed_on__lte=OuterRef("onset_date")
    )
    return (
        records_visible_to(user, AdverseEvent)
        .filter(onset_date__gte=first_supply)
        .filter(Exists(supplied_before))
        .order_by("onset_date", "pk")
    )


def batch_recipient_adverse_events(user: User, batch: Batch) -> RecipientAdverseEvents:
    """The first RECIPIENT_ADVERSE_EVENTS_SHOWN, read with one more to know whether others exist:
    a count of them all would read every adverse event of the sites (no list is cut silently)."""
    shown = RECIPIENT_ADVERSE_EVENTS_SHOWN
    events = list(_recipient_adverse_events(user, batch).select_related("patient")[: shown + 1])
    return RecipientAdverseEvents(events[:shown], more=len(events) > shown)


def batch_recipient_adverse_events_rows(user: User, batch: Batch) -> Iterator[tuple[object, ...]]:
    """Every one of them, as CSV rows in the page's order, read in chunks."""
    rows = _recipient_adverse_events(user, batch).values_list(
        "patient__study_id", "patient__site__code", "term", "ctcae_grade", "serious", "onset_date", "resolution_date"
    )
    for row in rows.iterator(chunk_size=2000):
        yield (*row, batch.batch_number)


def open_recall_patient_ids(patient_ids: list[int]) -> set[int]:
    """Which of these patients have a recall not yet acknowledged by a clinician (one query)."""
    return set(
        RecallNotice.objects.filter(patient_id__in=patient_ids, acknowledged_at__isnull=True).values_list(
            "patient_id", flat=True
        )
    )


def excursions_visible_to(user: User) -> list[TemperatureExcursion]:
    return list(
        TemperatureExcursion.objects.filter(site__in=sites_visible_to(user))
        .select_related("site", "batch", "decided_by")
        .prefetch_related("batches")
        .order_by("-detected_at")[:100]
    )
