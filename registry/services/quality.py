"""Data quality: rule findings become queries kept with the record (never a refusal that loses
it); data managers raise queries by hand, sites answer, data managers close or re-open.

Every step of a query is a history row (simple-history) with who, when and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from registry.instances import new_instance
from registry.models import (
    ClinicalRecord,
    DataQualityRule,
    DataQuery,
    Finding,
    Patient,
    QueryStatus,
    Severity,
    User,
    as_date,
    rules_today,
)
from registry.quality import CHECKS, FoundOn, checks_triggered_by
from registry.roles import Area
from registry.services.audit import authorise_write
from registry.services.bulk import records_bulk_insert

#: Patients per set-wise pass of the nightly scan.
SCAN_CHUNK = 2000


def data_queries_raise(
    *, actor: User | None, findings: Iterable[tuple[ClinicalRecord, Sequence[Finding]]]
) -> list[DataQuery]:
    """Raise a query for each rule finding not already open on its record (so re-saving a record
    or re-importing a file does not raise the same query twice), unless its rule is switched
    off, or a data manager closed the same query after the record last changed. The query takes
    its rule's severity. Set-wise: a few queries whatever the number of findings."""
    pending = [(record, finding) for record, found in findings for finding in found]
    if not pending:
        return []
    rules = {rule.code: rule for rule in DataQualityRule.objects.filter(code__in={f.rule for _, f in pending})}
    pending = [(r, f) for r, f in pending if f.rule not in rules or rules[f.rule].active]
    if not pending:
        return []
    types = ContentType.objects.get_for_models(*{type(record) for record, _ in pending})
    existing = DataQuery.objects.filter(
        record_type__in=list(types.values()), record_id__any_of={record.pk for record, _ in pending}
    )
    open_keys = set(existing.exclude(status=QueryStatus.CLOSED).values_list("record_type_id", "record_id", "rule"))
    closed_at: dict[tuple[int, int, str], dt.datetime] = {}
    for type_id, record_id, rule_code, closed in existing.filter(status=QueryStatus.CLOSED).values_list(
        "record_type_id", "record_id", "rule", "closed_at"
    ):
        if closed is not None:
            closed_key = (type_id, record_id, rule_code)
            closed_at[closed_key] = max(closed, closed_at.get(closed_key, closed))
    queries: list[DataQuery] = []
    raised_by = actor if actor is not None and actor.pk else None
    for record, finding in pending:
        record_type = types[type(record)]
        key = (record_type.pk, record.pk, finding.rule)
        if key in open_keys or _closed_since(closed_at.get(key), record, finding):
            continue
        open_keys.add(key)
        rule = rules.get(finding.rule)
        # Built without Model.__init__ (an import raises one per dispensing without a prescription).
        queries.append(
            new_instance(
                DataQuery,
                {
                    "patient_id": record.pk if isinstance(record, Patient) else record.patient_id,  # type: ignore[attr-defined]
                    "record_type_id": record_type.pk,
                    "record_id": record.pk,
                    "field_name": finding.field,
                    "rule": finding.rule,
                    "severity": rule.severity if rule is not None else Severity.MAJOR,
                    "message": finding.message,
                    "raised_by_id": raised_by.pk if raised_by is not None else None,
                },
                {"record_type": record_type, "raised_by": raised_by},
            )
        )
    records_bulk_insert(actor=actor, records=queries, model=DataQuery, reason="Raised by a data-quality rule")
    return queries


def data_query_restate(*, actor: User | None, query: DataQuery, message: str, reason: str) -> DataQuery | None:
    """A rule's open query says what the rule now finds, when that grew (an import's later chunk
    found more of it on the same patient): one question, not two. A query the site answered or a
    data manager closed meanwhile is left as it was answered (None): the caller raises a new one."""
    with transaction.atomic():
        query = _locked(query)
        if query.status != QueryStatus.OPEN:
            return None
        query.message = message
        return _save(query, actor, reason)


def _closed_since(closed: dt.datetime | None, record: ClinicalRecord, finding: Finding) -> bool:
    """Whether a data manager closed this query after the doubt arose (so it stays closed)."""
    if closed is None:
        return False
    if finding.since is not None:
        return as_date(closed) >= finding.since
    changed = getattr(record, "updated_at", None)
    return changed is None or closed >= changed


def data_quality_check(*, actor: User | None, patient: Patient, record: models.Model) -> list[DataQuery]:
    """After a record is saved: run the active rules that watch its kind, for its patient, and
    raise queries on that record (others of the patient wait for the nightly scan)."""
    triggered = checks_triggered_by(type(record))
    if not triggered:
        return []
    rules = {r.code: r for r in DataQualityRule.objects.filter(code__in=[c.code for c in triggered], active=True)}
    today = rules_today()
    found: list[FoundOn] = []
    for rule_check in triggered:
        if rule_check.code in rules:
            found.extend(
                (doubted, finding)
                for doubted, finding in rule_check.check(rules[rule_check.code], [patient.pk], today)
                if type(doubted) is type(record) and doubted.pk == record.pk
            )
    return data_queries_raise(actor=actor, findings=[(doubted, [finding]) for doubted, finding in found])


def data_quality_scan(*, actor: User | None = None, patient_ids: Sequence[int] | None = None) -> int:
    """Run every active rule over every patient (or those given), set-wise by chunks of
    patients; returns the number of queries raised. The nightly Celery task calls it."""
    rules = [rule for rule in DataQualityRule.objects.filter(active=True) if rule.code in CHECKS]
    ids = (
        list(Patient.objects.order_by("pk").values_list("pk", flat=True)) if patient_ids is None else list(patient_ids)
    )
    today = rules_today()
    raised = 0
    for start in range(0, len(ids), SCAN_CHUNK):
        chunk = ids[start : start + SCAN_CHUNK]
        found: list[FoundOn] = []
        for rule in rules:
            found.extend(CHECKS[rule.code].check(rule, chunk, today))
        with transaction.atomic():
            raised += len(data_queries_raise(actor=actor, findings=[(record, [f]) for record, f in found]))
    return raised


# --- the query workflow ----------------------------------------------------------------------


def data_query_raise(
    *,
    actor: User,
    record: ClinicalRecord,
    message: str,
    field_name: str = "",
    severity: str = Severity.MAJOR,
) -> DataQuery:
    """A data manager asks the site about a record (or one of its fields)."""
    patient = record if isinstance(record, Patient) else record.patient  # type: ignore[attr-defined]
    authorise_write(actor, Area.QUERY_MANAGE, patient)
    if not message.strip():
        raise ValidationError({"message": "Write the question for the site."})
    if field_name and field_name not in {f.name for f in record._meta.concrete_fields}:
        raise ValidationError({"field_name": f"The {record._meta.verbose_name} has no field “{field_name}”."})
    query = DataQuery(
        patient=patient,
        record_type=ContentType.objects.get_for_model(record),
        record_id=record.pk,
        field_name=field_name,
        severity=severity,
        message=message.strip(),
        raised_by=actor,
    )
    return _save(query, actor, "Raised by hand")


def data_query_answer(*, actor: User, query: DataQuery, answer: str) -> DataQuery:
    """The site answers an open query (correcting the record is its own audited edit)."""
    authorise_write(actor, Area.QUERY_ANSWER, query.patient)
    if not answer.strip():
        raise ValidationError({"answer": "Write the answer for the data manager."})
    with transaction.atomic():
        query = _locked(query)
        if query.status != QueryStatus.OPEN:
            raise ValidationError(
                f"This query is {query.get_status_display().lower()}; only an open query is answered."
            )
        query.answer, query.answered_by, query.answered_at = answer.strip(), actor, timezone.now()
        query.status = QueryStatus.ANSWERED
        return _save(query, actor, f"Answered: {answer.strip()}")


def data_query_close(*, actor: User, query: DataQuery, reason: str = "") -> DataQuery:
    """A data manager accepts the answer (or the data as they are) and closes the query."""
    authorise_write(actor, Area.QUERY_MANAGE, query.patient)
    with transaction.atomic():
        query = _locked(query)
        if query.status == QueryStatus.CLOSED:
            raise ValidationError("This query is already closed.")
        if query.status == QueryStatus.OPEN and not reason.strip():
            raise ValidationError({"reason": "The site has not answered: say why the query is closed."})
        query.status, query.closed_by, query.closed_at = QueryStatus.CLOSED, actor, timezone.now()
        return _save(query, actor, f"Closed: {reason.strip()}" if reason.strip() else "Closed")


def data_query_reopen(*, actor: User, query: DataQuery, reason: str) -> DataQuery:
    """A data manager re-opens an answered or closed query, saying what is still wrong."""
    authorise_write(actor, Area.QUERY_MANAGE, query.patient)
    if not reason.strip():
        raise ValidationError({"reason": "Say what is still wrong, for the site."})
    with transaction.atomic():
        query = _locked(query)
        if query.status == QueryStatus.OPEN:
            raise ValidationError("This query is already open.")
        query.status, query.closed_by, query.closed_at = QueryStatus.OPEN, None, None
        return _save(query, actor, f"Re-opened: {reason.strip()}")


def _locked(query: DataQuery) -> DataQuery:
    return DataQuery.objects.select_for_update().select_related("patient").get(pk=query.pk)


def _save(query: DataQuery, actor: User | None, reason: str) -> DataQuery:
    query.full_clean()
    query._history_user = actor  # type: ignore[attr-defined]
    query._change_reason = reason  # type: ignore[attr-defined]
    query.save()
    return query
