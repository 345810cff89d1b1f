"""Adverse events, and the alert every serious one raises on whichever path it arrives by.

Seriousness (ICH E2A) starts reporting clocks (24 h investigator to sponsor in trials; a
Yellow Card for unlicensed use), so the registry does not wait for anyone to look: the alert
is listed on the data managers' page and mailed to them once the record is committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from smtplib import SMTPException
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from registry.meta import concrete_field
from registry.models import AdverseEvent, Patient, Role, SafetyCase, SeriousAdverseEventAlert, User
from registry.roles import Area
from registry.services.audit import audited_save, authorise_write, record_update
from registry.services.pharmacovigilance import notifications_send_many, safety_cases_open, safety_officers

logger = logging.getLogger(__name__)


def adverse_event_record(
    *, actor: User | None, patient: Patient, aware_at: dt.datetime | None = None, **fields: Any
) -> AdverseEvent:
    """Record an adverse event; a serious one opens its safety case (the clock runs from
    `aware_at`, by default now) and is flagged to the data managers in the same transaction."""
    authorise_write(actor, Area.CLINICAL, patient)
    with transaction.atomic():
        event = audited_save(AdverseEvent(patient=patient, **fields), actor=actor)
        sae_alerts_raise(actor=actor, adverse_events=[event], aware_at=aware_at)
    return event


def adverse_event_update(
    *,
    actor: User | None,
    record: AdverseEvent,
    reason: str,
    expected_version: int | None,
    aware_at: dt.datetime | None = None,
    **changes: Any,
) -> AdverseEvent:
    """Edit an adverse event; one that becomes serious on review is flagged like a new one."""
    with transaction.atomic():
        event = record_update(record, actor=actor, reason=reason, expected_version=expected_version, **changes)
        sae_alerts_raise(actor=actor, adverse_events=[event], aware_at=aware_at)
    return event


def sae_alerts_raise(
    *, actor: User | None, adverse_events: Sequence[AdverseEvent], aware_at: dt.datetime | None = None
) -> list[SeriousAdverseEventAlert]:
    """Open each serious AE's safety case and flag it once: an in-app notification to every data
    manager now, and a mail after the records are committed.

    Set-wise, so an import of a thousand events raises them in two queries; the web, API and
    admin paths pass one. The mail goes out on commit, so a rolled-back save never alerts
    anyone, and a mail failure never loses the alert: it stays listed on the data managers' page.
    """
    serious = [event for event in adverse_events if event.serious]
    if not serious:
        return []
    safety_cases_open(actor=actor, adverse_events=serious, aware_at=aware_at)
    flagged = set(
        SeriousAdverseEventAlert.objects.filter(adverse_event__in=serious).values_list("adverse_event_id", flat=True)
    )
    raised_by = actor if actor is not None and actor.pk else None
    alerts = SeriousAdverseEventAlert.objects.bulk_create(
        [
            SeriousAdverseEventAlert(adverse_event=event, raised_by=raised_by)
            for event in serious
            if event.pk not in flagged
        ]
    )
    if alerts:
        _notify(alerts)
        alert_ids = [alert.pk for alert in alerts]
        transaction.on_commit(lambda: sae_alerts_mail(alert_ids))
    return alerts


def _notify(alerts: Sequence[SeriousAdverseEventAlert]) -> None:
    """One notification per alert to each safety officer: the cases read in one query, the
    notifications written in one (an import raises thousands of alerts at once)."""
    officers = safety_officers()
    if not officers:
        return
    cases = {
        case.adverse_event_id: case
        for case in SafetyCase.objects.filter(adverse_event__in=[alert.adverse_event for alert in alerts]).only(
            "pk", "adverse_event_id", "initial_due_at", "route_code"
        )
    }
    messages = []
    for alert in alerts:
        event = alert.adverse_event
        case = cases.get(event.pk)
        if case is not None:
            subject = f"Serious adverse event: {event.patient.study_id} – {event.term}"
            messages.append((subject, _clock_line(case), reverse("clinic:safety_case", args=[case.pk])))
    notifications_send_many(users=officers, messages=messages)


def _clock_line(case: SafetyCase) -> str:
    clock = case.clock
    if not clock.recipient:
        return "No product report is due (the patient is not on a treatment route)."
    if case.initial_due_at is None:
        return f"Report to {clock.recipient_label} as soon as possible."
    due = timezone.localtime(case.initial_due_at)
    return f"Report to {clock.recipient_label} by {due:%H:%M on %d %b %Y} ({clock.initial_hours} h from awareness)."


def sae_alert_recipients() -> list[str]:
    """Active data managers with an address, plus any fixed pharmacovigilance addresses."""
    managers = User.objects.filter(role=Role.DATA_MANAGER, is_active=True).exclude(email="")
    addresses = list(managers.values_list("email", flat=True))
    addresses += [a for a in getattr(settings, "SAE_ALERT_EMAILS", []) if a not in addresses]
    return addresses


def sae_alerts_mail(alert_ids: Sequence[int]) -> None:
    """Pseudonymised mail, one per alert: study id and clinical facts only, never the patient's identity."""
    recipients = sae_alert_recipients()
    if not recipients:
        # One line for the lot: an import of a cohort raises hundreds at once (the alert page lists them).
        logger.warning(
            "%s serious AE alert(s) raised (%s) but no data manager has an e-mail address.",
            len(alert_ids),
            ", ".join(str(pk) for pk in sorted(alert_ids)),
        )
        return
    alerts = SeriousAdverseEventAlert.objects.filter(pk__in=alert_ids).select_related(
        "adverse_event__patient__site", "adverse_event__safety_case", "raised_by"
    )
    for alert in alerts:
        event = alert.adverse_event
        subject, body = _sae_mail(alert, event)
        try:
            send_mail(subject, body, None, recipients)
        except (SMTPException, OSError):  # the alert page still lists it; a mail outage must not hide it
            logger.exception("Could not send the e-mail for serious AE alert %s.", alert.pk)


def _sae_mail(alert: SeriousAdverseEventAlert, event: AdverseEvent) -> tuple[str, str]:
    criteria = ", ".join(
        str(concrete_field(AdverseEvent, f"criterion_{name}").verbose_name) for name in event.seriousness_criteria
    )
    reporter = (alert.raised_by.get_full_name() or alert.raised_by.username) if alert.raised_by else "system (import)"
    body = (
        f"A serious adverse event was recorded for {event.patient.study_id} ({event.patient.site.name}).\n\n"
        f"Term: {event.term}\n"
        f"Onset: {event.onset_date:%d %b %Y}\n"
        f"CTCAE grade: {event.get_ctcae_grade_display()}\n"
        f"Seriousness: {criteria}\n"
        f"Relatedness to IL-2LD: {event.get_relatedness_display()}\n"
        f"Recorded by: {reporter}\n"
        f"{_case_clock(event)}\n\n"
        "Review it on the registry's serious adverse event page (/alerts/). Suspected reactions to an "
        "unlicensed medicine are reported to the MHRA through the Yellow Card scheme."
    )
    return f"Serious adverse event: {event.patient.study_id} – {event.term}", body


def _case_clock(event: AdverseEvent) -> str:
    try:
        case = event.safety_case  # selected with the alerts: no query per alert
    except SafetyCase.DoesNotExist:
        return ""
    return f"Case {case.case_number}: {_clock_line(case)}"


def sae_alert_acknowledge(*, actor: User, alert: SeriousAdverseEventAlert) -> SeriousAdverseEventAlert:
    """A data manager takes charge of a serious AE (reporting clocks are then theirs to keep)."""
    if not (actor.is_superuser or actor.role == Role.DATA_MANAGER):
        raise PermissionDenied("Only data managers acknowledge serious adverse events.")
    with transaction.atomic():
        locked = SeriousAdverseEventAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            locked.acknowledged_by = actor
            locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return locked
