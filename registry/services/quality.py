"""Data-quality findings become queries kept with the record (never a refusal that loses it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.contenttypes.models import ContentType

from registry.bulk import bulk_insert_with_history
from registry.models import ClinicalRecord, DataQuery, Finding, QueryStatus, User


def data_queries_raise(
    *, actor: User | None, findings: Iterable[tuple[ClinicalRecord, Sequence[Finding]]]
) -> list[DataQuery]:
    """Raise a query for each rule finding not already open on its record (so re-saving a record
    or re-importing a file does not raise the same query twice). Set-wise: one query to find the
    open ones, one insert; the single-record services and the importer both call it."""
    pending = [(record, finding) for record, found in findings for finding in found]
    if not pending:
        return []
    types = ContentType.objects.get_for_models(*{type(record) for record, _ in pending})
    open_keys = set(
        DataQuery.objects.exclude(status=QueryStatus.CLOSED)
        .filter(record_type__in=list(types.values()), record_id__in={record.pk for record, _ in pending})
        .values_list("record_type_id", "record_id", "rule")
    )
    queries: list[DataQuery] = []
    for record, finding in pending:
        record_type = types[type(record)]
        key = (record_type.pk, record.pk, finding.rule)
        if key in open_keys:
            continue
        open_keys.add(key)
        queries.append(
            DataQuery(
                patient_id=record.patient_id,  # type: ignore[attr-defined]
                record_type=record_type,
                record_id=record.pk,
                field_name=finding.field,
                rule=finding.rule,
                message=finding.message,
                raised_by=actor if actor is not None and actor.pk else None,
            )
        )
    bulk_insert_with_history(
        queries, DataQuery, reason="Raised by a data-quality rule", user_id=actor.pk if actor is not None else None
    )
    return queries
