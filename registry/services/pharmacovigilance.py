"""Safety cases: opened by every path that makes an adverse event serious, assessed, reported, closed.

`safety_cases_open` is called by `sae_alerts_raise`, which the web pages, the API, the admin
and the importer all reach (through `adverse_event_record`/`_update` or set-wise), so the
reporting clock starts however the event arrived. The clock is the route's
(`registry.constants.REPORTING_CLOCKS`), read from the patient's enrolment when the case opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry.bulk import bulk_insert_with_history
from registry.constants import RECIPIENT_NONE, reporting_clock
from registry.models import (
    AdverseEvent,
    CaseStatus,
    Notification,
    Patient,
    Role,
    SafetyCase,
    SafetyReport,
    User,
    initial_due,
)
from registry.roles import Area
from registry.services.audit import audited_save, authorise_write, record_update

OPENED = "Opened: the adverse event became serious"


def patient_route_codes(patient_ids: Sequence[int]) -> dict[int, str]:
    """Each patient's route code ('' when not enrolled), in one query, without importing the
    programme's models (they are a floor above)."""
    rows = Patient.objects.filter(pk__in=list(patient_ids)).values_list("pk", "enrolment__route__code")
    return {pk: code or "" for pk, code in rows}


def safety_cases_open(
    *, actor: User | None, adverse_events: Sequence[AdverseEvent], aware_at: dt.datetime | None = None
) -> list[SafetyCase]:
    """Open one case per serious event that has none, with its route's clock running from awareness.

    Set-wise (an import passes thousands of events, the other paths one). `aware_at` is when the
    site knew; by default now, the moment the registry learnt of it.
    """
    serious = [event for event in adverse_events if event.serious and event.pk]
    if not serious:
        return []
    opened = set(SafetyCase.objects.filter(adverse_event__in=serious).values_list("adverse_event_id", flat=True))
    new_events = [event for event in serious if event.pk not in opened]
    if not new_events:
        return []
    routes = patient_route_codes([event.patient_id for event in new_events])
    aware = aware_at or timezone.now()
    cases = []
    for event in new_events:
        route = routes.get(event.patient_id, "")
        clock = reporting_clock(route)
        case = SafetyCase(
            adverse_event=event,
            aware_at=aware,
            route_code=route,
            initial_due_at=initial_due(clock, aware),
            company_is_sponsor=clock.company_is_sponsor,
            causality=event.relatedness,
        )
        # The event is the caller's saved record: its foreign key is not looked up again (a query per case).
        case.full_clean(exclude=["adverse_event"], validate_unique=False, validate_constraints=False)
        cases.append(case)
    user_id = actor.pk if actor is not None and actor.pk else None
    bulk_insert_with_history(cases, SafetyCase, reason=OPENED, user_id=user_id)
    for case in cases:
        case._state.adding = False  # saved: a later change is an update with its reason
    return cases


def safety_case_assess(
    *, actor: User | None, record: SafetyCase, reason: str, expected_version: int | None, **changes: Any
) -> SafetyCase:
    """Record the awareness time, the sender's causality and expectedness, the narrative; a
    corrected awareness moves the clock with it."""
    if "aware_at" in changes:
        changes["initial_due_at"] = initial_due(reporting_clock(record.route_code), changes["aware_at"])
    return record_update(
        record, actor=actor, reason=reason, expected_version=expected_version, area=Area.CLINICAL, **changes
    )


def safety_report_record(
    *,
    actor: User | None,
    case: SafetyCase,
    sent_at: dt.datetime,
    reference: str,
    narrative: str,
    outcome: str,
    unlicensed_stated: bool = False,
    recipient: str = "",
) -> SafetyReport:
    """Record a report as sent (initial, then follow-ups numbered in order); the first one stops
    the initial clock."""
    authorise_write(actor, Area.CLINICAL, case.adverse_event.patient)
    with transaction.atomic():
        locked = SafetyCase.objects.select_for_update().get(pk=case.pk)
        if locked.status == CaseStatus.CLOSED:
            raise ValidationError("This case is closed; re-open it before sending a follow-up.")
        recipient = recipient or locked.clock.recipient
        if recipient == RECIPIENT_NONE:
            raise ValidationError({"recipient": "Choose who the report went to."})
        report = SafetyReport(
            case=locked,
            sequence=locked.reports.count(),
            recipient=recipient,
            sent_at=sent_at,
            reference=reference.strip(),
            narrative=narrative,
            outcome=outcome,
            unlicensed_stated=unlicensed_stated,
            sent_by=actor if actor is not None and actor.pk else None,
        )
        audited_save(report, actor=actor)
        if locked.status == CaseStatus.OPEN:
            locked.status = CaseStatus.REPORTED
            audited_save(locked, actor=actor, reason=f"Initial report sent ({report.reference})")
    return report


def safety_case_close(*, actor: User | None, case: SafetyCase, reason: str, expected_version: int | None) -> SafetyCase:
    """Close a case once its reports are sent (a case with no product report due closes at once)."""
    if case.clock.recipient != RECIPIENT_NONE and not case.reports.exists():
        raise ValidationError("Send the initial report before closing the case.")
    return record_update(case, actor=actor, reason=reason, expected_version=expected_version, status=CaseStatus.CLOSED)


def notifications_send(*, users: Sequence[User], subject: str, body: str = "", link: str = "") -> list[Notification]:
    return notifications_send_many(users=users, messages=[(subject, body, link)])


def notifications_send_many(*, users: Sequence[User], messages: Sequence[tuple[str, str, str]]) -> list[Notification]:
    """Each (subject, body, link) to every user, in one write."""
    return Notification.objects.bulk_create(
        [
            Notification(user=user, subject=subject[:200], body=body, link=link[:300])
            for subject, body, link in messages
            for user in users
        ]
    )


def notification_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read."""
    if notification.user_id != actor.pk:
        raise PermissionDenied("This notification is someone else's.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def safety_officers() -> list[User]:
    """Who is told of a new serious adverse event: the active data managers (the safety role)."""
    return list(User.objects.filter(role=Role.DATA_MANAGER, is_active=True))
