"""Whether a patient's follow-up has ended, and who is told when that may have changed.

Follow-up ends with a death, a withdrawal from the programme or a loss to follow-up
(`ENDING_EVENTS`), or a withdrawal of consent in force at any level (treatment only included).
`follow_up_ended` is that rule as a query filter, the one the pages' status and the kept next due
date (`access_programme.next_due`) both read.

The services that record those facts (`outcome_record`, `outcome_update`, `consent_withdraw`,
and `outcomes_bulk_record`, the import's) call `follow_up_changed` for their patients inside
their transaction, and so do those that move the follow-up's schedule (`alsfrsr_record`,
`alsfrsr_update` and `alsfrsr_bulk_record`, the import's: the next assessment is due a fixed interval
after the last). Apps above the registry register what must follow (the access programme keeps
each patient's next due dates, cleared once follow-up has ended) in their `AppConfig.ready`, so
the registry never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q

from registry.models import ClinicalEvent, EventType, withdrawals_in_force

#: The events after which a patient is no longer followed up.
ENDING_EVENTS = (EventType.DEATH, EventType.WITHDRAWAL, EventType.LOST_TO_FOLLOW_UP)

Listener = Callable[[Collection[int]], object]
_listeners: list[Listener] = []


def follow_up_ended(patient: Any = None, *, events: Any = None, withdrawals: Any = None) -> Q:
    """The patient (`patient`, an expression for its id; the outer query's pk by default) died,
    withdrew or was lost to follow-up, or withdrew consent (a withdrawal in force).

    `events` and `withdrawals` are the model classes (a migration passes its historical ones).
    """
    patient = OuterRef("pk") if patient is None else patient
    events = events or ClinicalEvent
    ended = events.objects.filter(patient=patient, event_type__in=ENDING_EVENTS)
    in_force = withdrawals_in_force(withdrawals).filter(patient=patient)
    return Q(Exists(ended)) | Q(Exists(in_force))


def on_follow_up_change(listener: Listener) -> None:
    """Call `listener(patient_ids)` whenever these patients' follow-up may have ended or resumed,
    or their ALSFRS-R assessments changed."""
    if listener not in _listeners:
        _listeners.append(listener)


def follow_up_changed(patient_ids: Iterable[int]) -> None:
    """Tell the listeners, in the caller's transaction, that these patients' follow-up (its end or
    its ALSFRS-R schedule) may have changed."""
    ids = sorted(set(patient_ids))
    if ids:
        for listener in _listeners:
            listener(ids)
