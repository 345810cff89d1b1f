"""How many distinct patients received each batch, kept on the batch (`Batch.recipient_count`) as
its stock is, so the batch register reads a column instead of counting every batch's distinct
recipients over all dispensings on each request (issue 18, item 3).

The rule: a supply adds its patient to its batch's recipients unless the patient already had a
supply of that batch; a supply moved off a batch takes its patient away unless the patient has
another supply of it left. Dispensings are never deleted (no service; the admin refuses deletes;
every foreign key to a dispensing's patient, cycle and batch is PROTECT).

`recipients_move` is the one function that applies the rule: the dispensing services (one
supply, under their batch row locks) and the import's dispensing loader (a chunk, under its
batch row locks) call it before writing the supplies, and save the batches with the stock.
`recipient_count_refill` recounts from the dispensings, for the migration that added the column
and the demo cohort, which writes its supplies in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps as installed_apps
from django.apps.registry import Apps
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from access_programme.models import Batch, Dispensing


def _held(pairs: set[tuple[int, int]], exclude: Iterable[int] = ()) -> set[tuple[int, int]]:
    """Which of these (batch id, patient id) pairs have a dispensing, other than `exclude`: one query."""
    if not pairs:
        return set()
    found = (
        Dispensing.objects.filter(
            batch_id__in={b for b, _ in pairs}, patient_id__in={p for _, p in pairs}
        )  # a superset of the pairs, on the (batch_id, patient_id) index; kept to the pairs below
        .exclude(pk__in=list(exclude))
        .order_by()
        .values_list("batch_id", "patient_id")
        .distinct()
    )
    return pairs & set(found)


def recipients_move(
    *,
    added: Iterable[tuple[Batch, int]] = (),
    removed: Iterable[tuple[Batch, int, int]] = (),
) -> None:
    """Adjust `recipient_count` on these Batch instances (locked by the caller, saved by the
    caller), before the supplies are written.

    `added`: (batch, patient id) of each supply about to be written to the batch (+1 per patient
    with no supply of that batch yet; a batch not saved yet has none). `removed`: (batch, patient
    id, dispensing id) of a supply about to leave the batch (-1 when the patient has no other
    supply of it). One query for each of the two lists that holds a saved batch.
    """
    added, removed = list(added), list(removed)
    batches: dict[int, Batch] = {id(b): b for b, _ in added} | {id(b): b for b, _, _ in removed}
    gained = {(id(b), p) for b, p in added}
    held = _held({(b.pk, p) for b, p in added if b.pk is not None})
    gained = {(key, p) for key, p in gained if (batches[key].pk, p) not in held}
    kept = _held({(b.pk, p) for b, p, _ in removed}, exclude=[pk for *_, pk in removed])
    lost = {(id(b), p) for b, p, _ in removed if (b.pk, p) not in kept}
    for key, _ in gained:
        batches[key].recipient_count += 1
    for key, _ in lost:
        batches[key].recipient_count -= 1


def recipient_count_refill(batch_ids: Iterable[int] | None = None, *, apps: Apps | None = None) -> int:
    """Recount these batches' (all when None) distinct recipients from their dispensings, in one
    UPDATE (no history row: a derived value). `apps` gives a migration's historical models."""
    apps = apps or installed_apps
    batches, dispensings = (
        apps.get_model("access_programme", "Batch"),
        apps.get_model("access_programme", "Dispensing"),
    )
    rows: Any = batches.objects.all()
    if batch_ids is not None:
        rows = rows.filter(pk__in=list(batch_ids))
    counted = (
        dispensings.objects.filter(batch_id=OuterRef("pk"))
        .order_by()
        .values("batch_id")
        .annotate(n=Count("patient_id", distinct=True))
        .values("n")
    )
    return int(rows.update(recipient_count=Coalesce(Subquery(counted), Value(0), output_field=IntegerField())))
