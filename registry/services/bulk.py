"""The registry's bulk writing service: records written in sets, each with its audit row.

The one way an adapter writes many records at once (the cohort import; `tests/architecture`
proves the adapters write no model directly). The caller has authorised the write and run each
record's rules (the model's validators and the pure rule functions); this service writes the
records and one history row per inserted or updated record, with the reason and the actor.

Updates go through simple-history's `bulk_update_with_history` ("~" history rows). Inserts
go through `registry.bulk.bulk_insert_with_history`, the one bulk insert: COPY of the rows and
their "+" history rows on PostgreSQL, with primary keys reserved from the table's sequence
first so children can point at their parents; simple-history's `bulk_create_with_history` on
SQLite (the demo). Every history row carries the reason (the import's is "import <file name>")
and the actor (None from the command line).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from registry.bulk import bulk_insert_with_history
from registry.models import User


def records_bulk_insert(
    *, actor: User | None, records: Sequence[models.Model], model: type[models.Model], reason: str
) -> None:
    """Insert unsaved records with their history; sets their primary keys."""
    bulk_insert_with_history(records, model, reason=reason, user_id=actor.pk if actor else None)


def records_bulk_update(
    *,
    actor: User | None,
    records: Sequence[models.Model],
    model: type[models.Model],
    fields: Sequence[str],
    reason: str,
) -> None:
    """Update changed records (version + 1, as `audited_save` does) with a "~" history row each."""
    if not records:
        return
    now = timezone.now()
    names = list(dict.fromkeys([*fields, "version", "updated_at"]))
    for obj in records:
        obj.version += 1  # type: ignore[attr-defined]
        obj.updated_at = now  # type: ignore[attr-defined]
    bulk_update_with_history(
        list(records), model, names, batch_size=1000, default_user=actor, default_change_reason=reason
    )


def record_versions_lock(model: type[models.Model], pks: Sequence[int]) -> dict[int, int]:
    """Lock rows about to be updated and return their current versions (optimistic check)."""
    if not pks:
        return {}
    return dict(model._default_manager.select_for_update().filter(pk__in=pks).values_list("pk", "version"))
