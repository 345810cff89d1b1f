"""Follow-up state of patients (status, what is due), computed in the database for lists and pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from access_programme.models import (
    Enrolment,
    RouteCode,
    TreatmentCycle,
)
from registry.constants import ALSFRSR_INTERVAL_DAYS, CYCLE_LENGTH_DAYS
from registry.follow_up import follow_up_ended
from registry.models import (
    AdverseEvent,
    AeOutcome,
    AlsfrsrAssessment,
    ClinicalEvent,
    EventType,
    Patient,
    withdrawals_in_force,
)

#: An assessment is flagged "due" this many days before it falls due.
ALSFRSR_DUE_SOON_DAYS = 14


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "In follow-up"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LOST = "lost", "Lost to follow-up"
    DECEASED = "deceased", "Deceased"


class DueFilter(models.TextChoices):
    ALSFRSR = "alsfrsr", "ALSFRS-R due"
    CYCLE = "cycle", "Cycle overdue"
    SAE = "sae", "Open serious AE"


#: Sorts by a date on the enrolment: key -> (column, descending). Patients without the date (not
#: enrolled; for the next ALSFRS-R, kept by next_due, also those out of follow-up) come last, by
#: study id. `patient_list_page` reads such a list in two index walks (`KeptDateOrder`).
KEPT_DATE_SORTS: dict[str, tuple[str, bool]] = {
    "enrolled": ("enrolment__enrolment_date", True),
    "alsfrsr_due": ("enrolment__next_alsfrsr_due", False),
}


def kept_date_order(sort: str, *, nulls_last: bool = True) -> list[Any]:
    """The ordering of a `KEPT_DATE_SORTS` sort; without `nulls_last`, for rows that all have the
    date, in the plain direction an index on the date is read in."""
    column, descending = KEPT_DATE_SORTS[sort]
    date = F(column).desc(nulls_last=nulls_last or None) if descending else F(column).asc(nulls_last=nulls_last or None)
    return [date, "study_id"]


#: Sort keys offered on the patient list: key -> (label, ordering).
SORTS: dict[str, tuple[str, list[Any]]] = {
    "study_id": ("Study id", ["study_id"]),
    "-study_id": ("Study id, descending", ["-study_id"]),
    "site": ("Site", ["site__code", "study_id"]),
    "enrolled": ("Most recently enrolled", kept_date_order("enrolled")),
    "alsfrsr_due": ("ALSFRS-R due first", kept_date_order("alsfrsr_due")),
}


def latest(model: type[models.Model], value: str, order: str) -> Subquery:
    rows = model._default_manager.filter(patient=OuterRef("pk")).order_by(order).values(value)[:1]
    return Subquery(rows)


def _event(event_type: str) -> Exists:
    return Exists(ClinicalEvent.objects.filter(patient=OuterRef("pk"), event_type=event_type))


def open_sae() -> models.QuerySet[AdverseEvent]:
    """The outer patient's serious adverse events not yet resolved (and not fatal)."""
    return AdverseEvent.objects.filter(patient=OuterRef("pk"), serious=True, resolution_date__isnull=True).exclude(
        outcome=AeOutcome.FATAL
    )


def with_follow_up(patients: models.QuerySet[Patient]) -> models.QuerySet[Patient]:
    """Annotate what the list and the worklist need to know about each patient's follow-up."""
    return patients.annotate(
        last_alsfrsr_date=latest(AlsfrsrAssessment, "assessment_date", "-assessment_date"),
        last_alsfrsr_total=latest(AlsfrsrAssessment, "total", "-assessment_date"),
        last_cycle_start=latest(TreatmentCycle, "start_date", "-cycle_number"),
        last_cycle_number=latest(TreatmentCycle, "cycle_number", "-cycle_number"),
        deceased_on=Subquery(
            ClinicalEvent.objects.filter(patient=OuterRef("pk"), event_type=EventType.DEATH).values("event_date")[:1]
        ),
        has_open_sae=Exists(open_sae()),
        withdrawal_event=_event(EventType.WITHDRAWAL),
        consent_withdrawn=_consent_withdrawn(),
        lost=_event(EventType.LOST_TO_FOLLOW_UP),
        alsfrsr_anchor=Coalesce(F("last_alsfrsr_date"), F("enrolment__enrolment_date")),
        first_cycle_due=Coalesce(F("enrolment__first_dose_date"), F("enrolment__enrolment_date")),
        status=Case(
            When(deceased_on__isnull=False, then=Value(PatientStatus.DECEASED)),
            When(Q(withdrawal_event=True) | Q(consent_withdrawn=True), then=Value(PatientStatus.WITHDRAWN)),
            When(lost=True, then=Value(PatientStatus.LOST)),
            default=Value(PatientStatus.ACTIVE),
            output_field=models.CharField(),
        ),
    )


def treated() -> Q:
    return Q(enrolment__isnull=False) & ~Q(enrolment__route__code=RouteCode.NONE)


# Set-based forms of the follow-up state, for filtering many patients without annotating them.
# Each agrees with `with_follow_up` + `follow_up` (tests/web/test_patient_pages.py checks that
# every filter returns exactly the patients whose row says so).


def _consent_withdrawn() -> Exists:
    return Exists(withdrawals_in_force().filter(patient=OuterRef("pk")))


def in_follow_up() -> Q:
    """Status "in follow-up": no death, withdrawal or loss to follow-up, consent not withdrawn."""
    return ~follow_up_ended()


def status_is(status: str) -> Q:
    """The `status` annotation's CASE (deceased, else withdrawn, else lost, else active) as a filter."""
    dead, withdrawn = Q(_event(EventType.DEATH)), Q(_event(EventType.WITHDRAWAL)) | Q(_consent_withdrawn())
    if status == PatientStatus.DECEASED:
        return dead
    if status == PatientStatus.WITHDRAWN:
        return ~dead & withdrawn
    if status == PatientStatus.LOST:
        return ~dead & ~withdrawn & Q(_event(EventType.LOST_TO_FOLLOW_UP))
    if status == PatientStatus.ACTIVE:
        return in_follow_up()
    return Q(pk__in=[])


@dataclass(frozen=True)
class FollowUp:
    """What is due for one patient, derived from the `with_follow_up` annotations."""

    status: str
    status_label: str
    next_alsfrsr_due: dt.date | None
    alsfrsr_badge: str | None  # "overdue", "due" or None
    next_cycle_number: int | None
    next_cycle_due: dt.date | None
    cycle_overdue: bool
    open_sae: bool

    @property
    def badges(self) -> list[tuple[str, str]]:
        """(css class, text) pairs for the "due" badges."""
        badges: list[tuple[str, str]] = []
        if self.open_sae:
            badges.append(("badge-danger", "Open serious AE"))
        if self.cycle_overdue and self.next_cycle_due:
            badges.append(("badge-warn", f"Cycle {self.next_cycle_number} overdue since {self.next_cycle_due:%d %b}"))
        if self.alsfrsr_badge == "overdue" and self.next_alsfrsr_due:
            badges.append(("badge-warn", f"ALSFRS-R overdue since {self.next_alsfrsr_due:%d %b}"))
        elif self.alsfrsr_badge == "due" and self.next_alsfrsr_due:
            badges.append(("badge-info", f"ALSFRS-R due {self.next_alsfrsr_due:%d %b}"))
        return badges


def follow_up(patient: Patient, today: dt.date) -> FollowUp:
    """Due items of an annotated patient (see `with_follow_up`); nothing is due before enrolment or
    after follow-up ends. The rules `access_programme.next_due` keeps on the enrolment for the lists."""
    status = patient.status  # type: ignore[attr-defined]
    active = status == PatientStatus.ACTIVE
    enrolment: Enrolment | None = getattr(patient, "enrolment", None) if has_enrolment(patient) else None
    next_alsfrsr = None
    badge = None
    anchor = patient.alsfrsr_anchor  # type: ignore[attr-defined]
    if active and enrolment is not None and anchor:  # the rule next_due keeps on the enrolment
        next_alsfrsr = anchor + dt.timedelta(days=ALSFRSR_INTERVAL_DAYS)
        if next_alsfrsr < today:
            badge = "overdue"
        elif next_alsfrsr <= today + dt.timedelta(days=ALSFRSR_DUE_SOON_DAYS):
            badge = "due"
    next_cycle_due = next_cycle_number = None
    if active and enrolment is not None and enrolment.route.is_treatment:
        last_start = patient.last_cycle_start  # type: ignore[attr-defined]
        if last_start:
            next_cycle_due = last_start + dt.timedelta(days=CYCLE_LENGTH_DAYS)
            next_cycle_number = patient.last_cycle_number + 1  # type: ignore[attr-defined]
        else:
            next_cycle_due = enrolment.first_dose_date or enrolment.enrolment_date
            next_cycle_number = 1
    return FollowUp(
        status=status,
        status_label=PatientStatus(status).label,
        next_alsfrsr_due=next_alsfrsr,
        alsfrsr_badge=badge,
        next_cycle_number=next_cycle_number,
        next_cycle_due=next_cycle_due,
        cycle_overdue=bool(next_cycle_due and next_cycle_due < today),
        open_sae=bool(patient.has_open_sae),  # type: ignore[attr-defined]
    )


def has_enrolment(patient: Patient) -> bool:
    try:
        patient.enrolment  # noqa: B018 - cached by select_related, no query
    except Enrolment.DoesNotExist:
        return False
    return True
