"""Reads behind the web pages that join registry and programme data: the clinicians' patient
list and patient page, the pharmacists' worklist, the batch register.

Every read starts from `registry.selectors.patients_visible_to` / `records_visible_to`, the one
visibility rule. Follow-up state (last ALSFRS-R, last cycle, open serious AE, status) is
computed in the database as correlated subqueries, and a patient's records are fetched one
query per kind, so the cost of a page does not grow with the number of patients or records
(tests pin the exact query counts).

Lists are read in two steps, so that a site of 25,000 patients costs about as much as a site of
25: the ids of one page are found with set-based conditions (`EXISTS` / `NOT EXISTS`, which
PostgreSQL runs as semi- and anti-joins with index probes), counted and cut in SQL; only then
are the follow-up annotations computed, for those ids alone (`with_follow_up`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When, Window
from django.db.models.functions import Cast, Coalesce

from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Enrolment,
    Product,
    Route,
    RouteCode,
    TreatmentCycle,
)
from registry.constants import ALSFRSR_INTERVAL_DAYS, CYCLE_LENGTH_DAYS, PNFH_STRATA, pnfh_stratum
from registry.models import (
    AdverseEvent,
    AeOutcome,
    AlsfrsrAssessment,
    Analyte,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    Diagnosis,
    EventType,
    Patient,
    PatientIdentity,
    User,
)
from registry.selectors import (
    can_see_identity,
    identities_for_display,
    patients_visible_to,
    records_visible_to,
)

#: An assessment is flagged "due" this many days before it falls due.
ALSFRSR_DUE_SOON_DAYS = 14
#: The dispensing worklist looks this far ahead.
WORKLIST_HORIZON_DAYS = 7
PAGE_SIZE = 25
#: Rows per page of the dispensing worklist and of a batch's recipients.
WORKLIST_PAGE_SIZE = 50
RECIPIENTS_PAGE_SIZE = 50


def usable_batches(product: Product, on: dt.date, quantity: int = 1) -> list[Batch]:
    """Batches that may be dispensed, first-expiry-first-out."""
    candidates = Batch.objects.filter(
        product=product, status=BatchStatus.AVAILABLE, expiry_date__gte=on, quantity_remaining__gte=quantity
    ).order_by("expiry_date", "received_on", "batch_number")
    return list(candidates)


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "In follow-up"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LOST = "lost", "Lost to follow-up"
    DECEASED = "deceased", "Deceased"


class DueFilter(models.TextChoices):
    ALSFRSR = "alsfrsr", "ALSFRS-R due"
    CYCLE = "cycle", "Cycle overdue"
    SAE = "sae", "Open serious AE"


#: Sort keys offered on the patient list: key -> (label, ordering).
SORTS: dict[str, tuple[str, list[Any]]] = {
    "study_id": ("Study id", ["study_id"]),
    "-study_id": ("Study id, descending", ["-study_id"]),
    "site": ("Site", ["site__code", "study_id"]),
    "enrolled": ("Most recently enrolled", [F("enrolment__enrolment_date").desc(nulls_last=True), "study_id"]),
    "alsfrsr_due": ("ALSFRS-R due first", [F("alsfrsr_anchor").asc(nulls_last=True), "study_id"]),
}


def _latest(model: type[models.Model], value: str, order: str) -> Subquery:
    rows = model._default_manager.filter(patient=OuterRef("pk")).order_by(order).values(value)[:1]
    return Subquery(rows)


def _event(event_type: str) -> Exists:
    return Exists(ClinicalEvent.objects.filter(patient=OuterRef("pk"), event_type=event_type))


def _open_sae() -> models.QuerySet[AdverseEvent]:
    """The outer patient's serious adverse events not yet resolved (and not fatal)."""
    return AdverseEvent.objects.filter(patient=OuterRef("pk"), serious=True, resolution_date__isnull=True).exclude(
        outcome=AeOutcome.FATAL
    )


def with_follow_up(patients: models.QuerySet[Patient]) -> models.QuerySet[Patient]:
    """Annotate what the list and the worklist need to know about each patient's follow-up."""
    return patients.annotate(
        last_alsfrsr_date=_latest(AlsfrsrAssessment, "assessment_date", "-assessment_date"),
        last_alsfrsr_total=_latest(AlsfrsrAssessment, "total", "-assessment_date"),
        last_cycle_start=_latest(TreatmentCycle, "start_date", "-cycle_number"),
        last_cycle_number=_latest(TreatmentCycle, "cycle_number", "-cycle_number"),
        deceased_on=Subquery(
            ClinicalEvent.objects.filter(patient=OuterRef("pk"), event_type=EventType.DEATH).values("event_date")[:1]
        ),
        has_open_sae=Exists(_open_sae()),
        withdrawal_event=_event(EventType.WITHDRAWAL),
        consent_withdrawn=Exists(Consent.objects.filter(patient=OuterRef("pk"), withdrawn_on__isnull=False)),
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


def _treated() -> Q:
    return Q(enrolment__isnull=False) & ~Q(enrolment__route__code=RouteCode.NONE)


# Set-based forms of the follow-up state, for filtering many patients without annotating them.
# Each agrees with `with_follow_up` + `follow_up` (tests/web/test_patient_pages.py checks that
# every filter returns exactly the patients whose row says so).


def _consent_withdrawn() -> Exists:
    return Exists(Consent.objects.filter(patient=OuterRef("pk"), withdrawn_on__isnull=False))


def _in_follow_up() -> Q:
    """Status "in follow-up": no death, withdrawal or loss to follow-up, consent not withdrawn."""
    ended = ClinicalEvent.objects.filter(
        patient=OuterRef("pk"),
        event_type__in=[EventType.DEATH, EventType.WITHDRAWAL, EventType.LOST_TO_FOLLOW_UP],
    )
    return ~Q(Exists(ended)) & ~Q(_consent_withdrawn())


def _status_is(status: str) -> Q:
    """The `status` annotation's CASE (deceased, else withdrawn, else lost, else active) as a filter."""
    dead, withdrawn = Q(_event(EventType.DEATH)), Q(_event(EventType.WITHDRAWAL)) | Q(_consent_withdrawn())
    if status == PatientStatus.DECEASED:
        return dead
    if status == PatientStatus.WITHDRAWN:
        return ~dead & withdrawn
    if status == PatientStatus.LOST:
        return ~dead & ~withdrawn & Q(_event(EventType.LOST_TO_FOLLOW_UP))
    if status == PatientStatus.ACTIVE:
        return _in_follow_up()
    return Q(pk__in=[])


def _alsfrsr_due_by(day: dt.date) -> Q:
    """The ALSFRS-R anchor (last assessment, else enrolment) is on or before `day`: no assessment
    after `day`, and either an assessment before it or an enrolment on or before it."""
    assessments = AlsfrsrAssessment.objects.filter(patient=OuterRef("pk"))
    later = Exists(assessments.filter(assessment_date__gt=day))
    return ~Q(later) & (Q(enrolment__enrolment_date__lte=day) | Q(Exists(assessments)))


def _cycle_due_by(day: dt.date) -> Q:
    """Next cycle falls due on or before `day`: 28 days after the last, or at the first dose.

    Cycles start at least 28 days apart in cycle order (TreatmentCycle.clean), so "the last
    cycle started on or before `day` - 28" is "no cycle started after it".
    """
    cycles = TreatmentCycle.objects.filter(patient=OuterRef("pk"))
    later = Exists(cycles.filter(start_date__gt=day - dt.timedelta(days=CYCLE_LENGTH_DAYS)))
    first_due = Q(enrolment__first_dose_date__lte=day) | Q(
        enrolment__first_dose_date__isnull=True, enrolment__enrolment_date__lte=day
    )
    return _treated() & ~Q(later) & (first_due | Q(Exists(cycles)))


def _next_cycle_due() -> Coalesce:
    """The next cycle's due date in SQL: the last cycle's start + 28 days, else the first dose
    (else enrolment); for ordering the worklist without annotating every row."""
    last_start = _latest(TreatmentCycle, "start_date", "-cycle_number")
    after_last = Cast(last_start + dt.timedelta(days=CYCLE_LENGTH_DAYS), models.DateField())
    return Coalesce(
        after_last, F("enrolment__first_dose_date"), F("enrolment__enrolment_date"), output_field=models.DateField()
    )


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
    """Due items of an annotated patient (see `with_follow_up`); nothing is due after follow-up ends."""
    status = patient.status  # type: ignore[attr-defined]
    active = status == PatientStatus.ACTIVE
    enrolment: Enrolment | None = getattr(patient, "enrolment", None) if _has_enrolment(patient) else None
    next_alsfrsr = None
    badge = None
    anchor = patient.alsfrsr_anchor  # type: ignore[attr-defined]
    if active and anchor:
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


def _has_enrolment(patient: Patient) -> bool:
    try:
        patient.enrolment  # noqa: B018 - cached by select_related, no query
    except Enrolment.DoesNotExist:
        return False
    return True


# --- the clinicians' patient list --------------------------------------------------------


def patient_list(
    user: User,
    *,
    today: dt.date,
    query: str = "",
    route: str = "",
    status: str = "",
    site: str = "",
    due: str = "",
    sort: str = "study_id",
) -> models.QuerySet[Patient]:
    """The user's patients, searched by study id, filtered and sorted; not annotated, so that
    counting and cutting a page touch only what the filters and the sort need."""
    patients = patients_visible_to(user, read_sites_first=True)
    if query:
        patients = patients.filter(study_id__icontains=query.strip())
    if route:
        patients = patients.filter(enrolment__route__code=route)
    if site:
        patients = patients.filter(site__code=site)
    if status:
        patients = patients.filter(_status_is(status))
    if due == DueFilter.ALSFRSR:
        soon = today + dt.timedelta(days=ALSFRSR_DUE_SOON_DAYS - ALSFRSR_INTERVAL_DAYS)
        patients = patients.filter(_in_follow_up(), _alsfrsr_due_by(soon))
    elif due == DueFilter.CYCLE:
        patients = patients.filter(_in_follow_up(), _cycle_due_by(today - dt.timedelta(days=1)))
    elif due == DueFilter.SAE:
        patients = patients.filter(Exists(_open_sae()))
    if sort == "alsfrsr_due":
        last = _latest(AlsfrsrAssessment, "assessment_date", "-assessment_date")
        patients = patients.alias(alsfrsr_anchor=Coalesce(last, F("enrolment__enrolment_date")))
    return patients.order_by(*SORTS.get(sort, SORTS["study_id"])[1])


def annotated_in_order(ids: Sequence[int]) -> list[Patient]:
    """These patients with their follow-up annotations, in the order given (one query)."""
    patients = with_follow_up(Patient.objects.filter(pk__in=ids).select_related("site", "enrolment__route"))
    by_id = {patient.pk: patient for patient in patients}
    return [by_id[pk] for pk in ids if pk in by_id]


@dataclass(frozen=True)
class PatientListPage:
    page: Page  # of patient ids; page.paginator.count is the number of patients found
    rows: list[tuple[Patient, FollowUp]]


def patient_list_page(user: User, *, today: dt.date, page: str | int | None, **filters: str) -> PatientListPage:
    """One page of `patient_list` with what is due for each patient shown (three queries:
    the user's sites, the count, the page's ids; then one for the rows)."""
    ids = patient_list(user, today=today, **filters).values_list("pk", flat=True)
    found = Paginator(ids, PAGE_SIZE).get_page(page)
    rows = [(patient, follow_up(patient, today)) for patient in annotated_in_order(list(found.object_list))]
    return PatientListPage(found, rows)


def routes() -> models.QuerySet[Route]:
    return Route.objects.order_by("code")


# --- the patient page --------------------------------------------------------------------


def patient_page_queryset(user: User) -> models.QuerySet[Patient]:
    """Patients the user may open, with what the page header needs; identity only if allowed."""
    related = ["site", "enrolment__route", "diagnosis"]
    if can_see_identity(user):
        related.append("identity")
    return with_follow_up(patients_visible_to(user).select_related(*related))


@dataclass(frozen=True)
class TimelineEntry:
    date: dt.date
    kind: str
    title: str
    detail: str = ""
    record: Any = None
    record_kind: str = ""  # URL kind for edit/history links; empty when not editable here
    tone: str = ""


@dataclass
class PatientOverview:
    patient: Patient
    follow_up: FollowUp
    identity: PatientIdentity | None
    enrolment: Enrolment | None
    diagnosis: Diagnosis | None
    deceased_on: dt.date | None
    consents: list[Consent]
    assessments: list[AlsfrsrAssessment]
    biomarkers: list[BiomarkerResult]
    events: list[ClinicalEvent]
    adverse_events: list[AdverseEvent]
    cycles: list[TreatmentCycle]
    dispensings: list[Dispensing]
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def latest_assessment(self) -> AlsfrsrAssessment | None:
        return self.assessments[-1] if self.assessments else None

    @property
    def kings_stage(self) -> str | None:
        if self.deceased_on:
            return "5"
        return self.latest_assessment.kings_stage if self.latest_assessment else None

    @property
    def mitos_stage(self) -> int | None:
        if self.deceased_on:
            return 5
        return self.latest_assessment.mitos_stage if self.latest_assessment else None

    @property
    def pnfh(self) -> BiomarkerResult | None:
        """The latest CSF pNFH result: the MIROCALS stratifier."""
        results = [b for b in self.biomarkers if b.analyte == Analyte.CSF_PNFH]
        return results[-1] if results else None

    @property
    def pnfh_stratum(self) -> str | None:
        return pnfh_stratum(self.pnfh.value) if self.pnfh else None

    @property
    def pnfh_stratum_label(self) -> str:
        return PNFH_STRATA.get(self.pnfh_stratum or "", "Not measured")

    @property
    def current_consent(self) -> Consent | None:
        active = [c for c in self.consents if not c.withdrawn_on]
        return active[-1] if active else None

    @property
    def gastrostomy(self) -> bool:
        """Gastrostomy recorded as an event, or item 5b used at the last assessment."""
        if any(e.event_type == EventType.GASTROSTOMY for e in self.events):
            return True
        latest = self.latest_assessment
        return bool(latest and latest.q5b_cutting_with_gastrostomy is not None)


def patient_overview(patient: Patient, user: User, today: dt.date) -> PatientOverview:
    """Everything on the patient page, one query per kind of record."""
    # Every display of identifiers is logged (registry.selectors.identities_for_display).
    identity = identities_for_display(user, [patient], channel="web", path=f"/patients/{patient.study_id}/").get(
        patient.pk
    )
    enrolment = patient.enrolment if _has_enrolment(patient) else None
    try:
        diagnosis: Diagnosis | None = patient.diagnosis
    except Diagnosis.DoesNotExist:
        diagnosis = None
    overview = PatientOverview(
        patient=patient,
        follow_up=follow_up(patient, today),
        identity=identity,
        enrolment=enrolment,
        diagnosis=diagnosis,
        deceased_on=patient.deceased_on,  # type: ignore[attr-defined]
        consents=list(Consent.objects.filter(patient=patient).order_by("consent_date", "pk")),
        assessments=list(AlsfrsrAssessment.objects.filter(patient=patient).order_by("assessment_date")),
        biomarkers=list(BiomarkerResult.objects.filter(patient=patient).order_by("sample_date", "analyte")),
        events=list(ClinicalEvent.objects.filter(patient=patient).order_by("event_date", "pk")),
        adverse_events=list(
            AdverseEvent.objects.filter(patient=patient).select_related("sae_alert").order_by("onset_date", "pk")
        ),
        cycles=list(TreatmentCycle.objects.filter(patient=patient).order_by("cycle_number")),
        dispensings=list(
            Dispensing.objects.filter(patient=patient)
            .select_related("batch__product", "cycle")
            .order_by("dispensed_on", "pk")
        ),
    )
    overview.timeline = _timeline(overview)
    return overview


def _timeline(o: PatientOverview) -> list[TimelineEntry]:
    """One chronology of everything recorded for the patient, newest first."""
    entries: list[TimelineEntry] = []
    if o.diagnosis:
        d = o.diagnosis
        entries.append(
            TimelineEntry(
                d.diagnosis_date,
                "Diagnosis",
                f"Diagnosis: {d.get_el_escorial_display()} ALS, {d.get_onset_region_display().lower()} onset",
                f"Symptom onset {d.symptom_onset_date:%d %b %Y}",
                d,
                "diagnosis",
            )
        )
    if o.enrolment:
        e = o.enrolment
        detail = "Meets the MIROCALS criteria" if e.meets_mirocals_criteria else "Departs from MIROCALS criteria"
        entries.append(TimelineEntry(e.enrolment_date, "Enrolment", f"Enrolled: {e.route.name}", detail, e))
    for c in o.consents:
        entries.append(
            TimelineEntry(c.consent_date, "Consent", f"Consent given (form {c.form_version})", "", c, "consent")
        )
        if c.withdrawn_on:
            entries.append(
                TimelineEntry(
                    c.withdrawn_on,
                    "Consent",
                    "Consent withdrawn",
                    c.get_withdrawal_scope_display(),
                    c,
                    "consent",
                    "warn",
                )
            )
    for a in o.assessments:
        entries.append(
            TimelineEntry(
                a.assessment_date,
                "ALSFRS-R",
                f"ALSFRS-R {a.total}/48",
                f"Bulbar {a.bulbar} · fine motor {a.fine_motor} · gross motor {a.gross_motor} · "
                f"respiratory {a.respiratory} · King's {a.kings_stage} · MiToS {a.mitos_stage}",
                a,
                "alsfrsr",
            )
        )
    for b in o.biomarkers:
        value = f"{b.value.normalize():f} {b.unit}"
        entries.append(
            TimelineEntry(b.sample_date, "Biomarker", f"{b.get_analyte_display()}: {value}", b.assay, b, "biomarker")
        )
    for ev in o.events:
        tone = "danger" if ev.event_type == EventType.DEATH else ""
        entries.append(TimelineEntry(ev.event_date, "Event", ev.get_event_type_display(), ev.detail, ev, "event", tone))
    for ae in o.adverse_events:
        serious = "Serious. " if ae.serious else ""
        entries.append(
            TimelineEntry(
                ae.onset_date,
                "Adverse event",
                f"AE: {ae.term} (CTCAE grade {ae.ctcae_grade})",
                f"{serious}{ae.get_relatedness_display()} to IL-2LD; {ae.get_outcome_display().lower()}",
                ae,
                "adverse-event",
                "danger" if ae.serious else "",
            )
        )
    for cy in o.cycles:
        detail = f"{cy.days_administered} of 5 days, {cy.total_dose_miu} MIU"
        if cy.interrupted:
            detail += f"; interrupted: {cy.interruption_reason}"
        entries.append(TimelineEntry(cy.start_date, "Cycle", f"Cycle {cy.cycle_number} started", detail, cy))
    for dp in o.dispensings:
        entries.append(
            TimelineEntry(
                dp.dispensed_on,
                "Dispensing",
                f"Dispensed {dp.quantity} × {dp.get_quantity_unit_display().lower()} for cycle {dp.cycle.cycle_number}",
                f"Batch {dp.batch.batch_number} ({dp.batch.product.name})",
                dp,
            )
        )
    kind_order = {"Diagnosis": 0, "Enrolment": 1, "Consent": 2, "Cycle": 3, "Dispensing": 4}
    entries.sort(key=lambda e: (e.date, -kind_order.get(e.kind, 9)), reverse=True)
    return entries


# --- the pharmacists' worklist -----------------------------------------------------------


@dataclass(frozen=True)
class WorklistRow:
    patient: Patient
    route: Route
    cycle_number: int
    due_date: dt.date
    days_from_today: int

    @property
    def overdue(self) -> bool:
        return self.days_from_today < 0

    @property
    def days_overdue(self) -> int:
        return max(-self.days_from_today, 0)


class _CountedPaginator(Paginator):
    """A paginator told its count (read with the page) instead of counting again."""

    def __init__(self, count: int, per_page: int) -> None:
        super().__init__([], per_page)
        self.count = count  # type: ignore[misc]  # overrides the cached property


def _page_counted_in_one_pass(patients: models.QuerySet[Patient], number: str | int | None, per_page: int) -> Page:
    """One page of the ordered patients' ids and their total in one query, `count(*) OVER ()`.

    For lists whose order needs every row anyway (the worklist's computed due date), this halves
    the work of a count and a page. Out-of-range or invalid numbers give the last or first page,
    as `Paginator.get_page` does.
    """
    try:
        wanted = max(int(number or 1), 1)
    except ValueError:
        wanted = 1
    counted = patients.annotate(total=Window(Count("*"))).values_list("pk", "total")
    rows = list(counted[(wanted - 1) * per_page : wanted * per_page])
    if not rows and wanted > 1:  # past the end
        wanted = max(math.ceil(patients.count() / per_page), 1)
        rows = list(counted[(wanted - 1) * per_page : wanted * per_page])
    paginator = _CountedPaginator(rows[0][1] if rows else 0, per_page)
    return Page([pk for pk, _ in rows], wanted, paginator)


@dataclass(frozen=True)
class WorklistPage:
    page: Page  # of patient ids; page.paginator.count is the number of patients due
    rows: list[WorklistRow]


def dispensing_worklist(
    user: User,
    *,
    today: dt.date,
    page: str | int | None = 1,
    horizon_days: int = WORKLIST_HORIZON_DAYS,
    per_page: int | None = None,
) -> WorklistPage:
    """Patients in follow-up on a treatment route whose next 28-day cycle is due within the
    horizon, by due date (so overdue ones first), then study id; one page of them.

    Counting and ordering need only the last cycle's start per patient (an index probe); the
    rest of the follow-up state is read for the page's rows alone.
    """
    due = (
        patients_visible_to(user, read_sites_first=True)
        .filter(_in_follow_up(), _cycle_due_by(today + dt.timedelta(days=horizon_days)))
        .alias(next_cycle_due=_next_cycle_due())
        .order_by("next_cycle_due", "study_id")
    )
    found = _page_counted_in_one_pass(due, page, per_page or WORKLIST_PAGE_SIZE)
    rows: list[WorklistRow] = []
    for patient in annotated_in_order(list(found.object_list)):
        state = follow_up(patient, today)
        if state.next_cycle_due is None or state.next_cycle_number is None:
            continue  # not reachable: the filter above asks for the same state
        rows.append(
            WorklistRow(
                patient=patient,
                route=patient.enrolment.route,
                cycle_number=state.next_cycle_number,
                due_date=state.next_cycle_due,
                days_from_today=(state.next_cycle_due - today).days,
            )
        )
    return WorklistPage(found, rows)


def dispensing_target(user: User, study_id: str, today: dt.date) -> WorklistRow | None:
    """The next cycle to dispense for one visible patient on a treatment route, or None."""
    patient = (
        with_follow_up(patients_visible_to(user).select_related("site", "enrolment__route"))
        .filter(_treated(), study_id=study_id)
        .first()
    )
    if patient is None:
        return None
    due = follow_up(patient, today)
    if due.next_cycle_due is None or due.next_cycle_number is None:
        return WorklistRow(patient, patient.enrolment.route, 0, today, 0)
    return WorklistRow(
        patient, patient.enrolment.route, due.next_cycle_number, due.next_cycle_due, (due.next_cycle_due - today).days
    )


def dispensable_batches(route: Route, on: dt.date, quantity: int = 1) -> list[Batch]:
    """Usable batches for the route's products, first-expiry-first-out (the service's rule)."""
    batches: list[Batch] = []
    for product in Product.objects.filter(route=route).order_by("code"):
        batches.extend(usable_batches(product, on, quantity))
    batches.sort(key=lambda b: (b.expiry_date, b.received_on, b.batch_number))
    return batches


def recent_dispensings(patient: Patient, limit: int = 3) -> list[Dispensing]:
    return list(
        Dispensing.objects.filter(patient=patient).select_related("batch", "cycle").order_by("-dispensed_on")[:limit]
    )


# --- the batch register ------------------------------------------------------------------


class _CountRows(Subquery):
    """`(SELECT count(*) FROM (subquery))`: the number of rows of a correlated subquery, e.g. of
    its DISTINCT values, without grouping the outer query."""

    template = "(SELECT count(*) FROM (%(subquery)s) AS counted)"
    output_field = models.IntegerField()


def batch_register(status: str = "") -> models.QuerySet[Batch]:
    """Every batch with how many patients received it; recalled and quarantined first.

    The count is a correlated subquery per batch, `count(*)` over its distinct patients: an
    index-only scan of `dispensing (batch_id, patient_id)` per batch, instead of one aggregate
    that sorts every dispensing of every batch (244 MB on disk at 700,000 dispensings).
    """
    recipients = Dispensing.objects.filter(batch=OuterRef("pk")).order_by().values("patient").distinct()
    batches = Batch.objects.select_related("product").annotate(
        recipients=_CountRows(recipients),
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


def batch_recipients(user: User, batch: Batch, *, page: str | int | None = 1) -> BatchRecipients:
    """One page of the batch's dispensings at the user's sites, by study id, with the number of
    patients who received it here and elsewhere (counted in SQL)."""
    mine = _batch_dispensings(user, batch)
    dispensings = mine.select_related("patient__site", "cycle").order_by("patient__study_id", "dispensed_on", "pk")
    found = Paginator(dispensings, RECIPIENTS_PAGE_SIZE).get_page(page)
    hidden = (
        Dispensing.objects.filter(batch=batch)
        .exclude(patient__in=patients_visible_to(user))
        .values("patient")
        .distinct()
        .count()
    )
    return BatchRecipients(found, mine.values("patient").distinct().count(), hidden)


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
