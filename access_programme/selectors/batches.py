"""The batch register and a batch's recipients (for recalls)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Case, Count, Value, When
from django.utils.functional import cached_property

from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
)
from registry.models import (
    User,
)
from registry.selectors import (
    records_visible_to,
)

# --- the batch register ------------------------------------------------------------------

#: Rows per page of a batch's recipients.
RECIPIENTS_PAGE_SIZE = 50


def batch_register(status: str = "") -> models.QuerySet[Batch]:
    """Every batch with how many patients received it (`Batch.recipient_count`, kept by the
    dispensing services and the import: access_programme.recipients); recalled and quarantined
    first."""
    batches = Batch.objects.select_related("product").annotate(
        status_rank=Case(
            When(status=BatchStatus.RECALLED, then=Value(0)),
            When(status=BatchStatus.QUARANTINED, then=Value(1)),
            default=Value(2),
        ),
    )
    if status:
        batches = batches.filter(status=status)
    return batches.order_by("status_rank", "expiry_date", "batch_number")


@dataclass(frozen=True)
class BatchRecipients:
    """Who received a batch: the user's own patients by study id (a page of their dispensings),
    others only counted."""

    page: Page  # of Dispensing, at the user's sites
    patient_count: int
    other_sites_patient_count: int

    @property
    def total_patient_count(self) -> int:
        return self.patient_count + self.other_sites_patient_count


def _batch_dispensings(user: User, batch: Batch) -> models.QuerySet[Dispensing]:
    return records_visible_to(user, Dispensing).filter(batch=batch)


class CountedPaginator(Paginator):
    """A paginator given its count, read beforehand with other figures in the same statement."""

    def __init__(self, object_list: models.QuerySet[Dispensing], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def batch_recipients(user: User, batch: Batch, *, page: str | int | None = 1) -> BatchRecipients:
    """One page of the batch's dispensings at the user's sites, by study id, with the number of
    patients who received it here and elsewhere.

    Elsewhere is the batch's kept recipient count (`Batch.recipient_count`) less those here. One
    statement counts the supplies here (the pages), the patients here and reads the kept count,
    so the figures are of the same moment and the supplies here are read once, not once for
    each count (at 100,000 patients, a batch of 40,000 recipients: 57 -> 34 ms, docs/benchmarks.md).
    COUNT(*) rather than of ids: the supplies are counted from an index alone."""
    mine = _batch_dispensings(user, batch)
    counted = list(
        mine.order_by()
        .values("batch")
        .annotate(supplies=Count("*"), patients=Count("patient", distinct=True))
        .values_list("supplies", "patients", "batch__recipient_count")
    )
    if counted:
        ((supplies, here_count, everyone),) = counted
    else:  # none here
        supplies, here_count = 0, 0
        everyone = Batch.objects.values_list("recipient_count", flat=True).get(pk=batch.pk)
    dispensings = mine.select_related("patient__site", "cycle").order_by("patient__study_id", "dispensed_on", "pk")
    found = CountedPaginator(dispensings, RECIPIENTS_PAGE_SIZE, count=supplies).get_page(page)
    return BatchRecipients(found, here_count, everyone - here_count)


#: Columns of the recipients CSV, in order.
RECIPIENTS_CSV_HEADER = ("study_id", "site", "dispensed_on", "cycle_number", "quantity", "quantity_unit", "batch")


def batch_recipients_rows(user: User, batch: Batch) -> Iterator[tuple[object, ...]]:
    """Every dispensing of the batch at the user's sites, as CSV rows (study id order), read in
    chunks so a recall of 20,000 patients does not sit in memory."""
    rows = (
        _batch_dispensings(user, batch)
        .order_by("patient__study_id", "dispensed_on", "pk")
        .values_list(
            "patient__study_id",
            "patient__site__code",
            "dispensed_on",
            "cycle__cycle_number",
            "quantity",
            "quantity_unit",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        yield (*row, batch.batch_number)
