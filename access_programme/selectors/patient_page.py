"""The patient page: one query per kind of record, and the timeline built from them."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models

from access_programme.models import (
    Dispensing,
    Enrolment,
    RecallNotice,
    TreatmentCycle,
)
from access_programme.selectors.follow_up import FollowUp, follow_up, has_enrolment, with_follow_up
from registry.constants import DOSING_DAYS_PER_CYCLE, PNFH_STRATA, pnfh_stratum
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    Analyte,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    EventType,
    Patient,
    PatientIdentity,
    User,
)
from registry.models.withdrawal import in_force
from registry.precompiled import compiled_per_value, with_subqueries_compiled
from registry.selectors import (
    CLOSED_AE_OUTCOMES,
    identities_for_display,
    patients_visible_to,
)

# --- the patient page --------------------------------------------------------------------


@functools.cache
def _annotated_patients() -> models.QuerySet[Patient]:
    """Every patient with what the page header needs and the follow-up annotations, built once
    per process: building them cost each page view ~4 ms of CPU (issue 18, item 3). A queryset
    is never changed in place (filtering it makes a new one), so the same one serves every
    request: nothing in it depends on the user or the day. Never evaluated itself. The identity
    is not read here: the page reads it, logged, through `identities_for_display`. Its subqueries are
    compiled once too (`with_subqueries_compiled`: ~2 ms of CPU a view)."""
    return with_subqueries_compiled(
        with_follow_up(Patient.objects.select_related("site", "enrolment__route", "diagnosis"))
    )


def patient_page_queryset(user: User) -> models.QuerySet[Patient]:
    """Patients the user may open, with what the page header needs."""
    return patients_visible_to(user, within=_annotated_patients())


@dataclass(frozen=True)
class TimelineEntry:
    date: dt.date
    kind: str
    title: str
    detail: str = ""
    record: Any = None
    record_kind: str = ""  # URL kind for edit/history links; empty when not editable here
    tone: str = ""


def cycle_at(cycles: list[TreatmentCycle], day: dt.date) -> TreatmentCycle | None:
    """The patient's last cycle started on or before a day (an adverse event's onset): the cycle
    an event is put down to, on the patient page and in the specials register (issue 16, 4a)."""
    started = [c for c in cycles if c.start_date <= day]
    return max(started, key=lambda c: c.start_date) if started else None


@dataclass(frozen=True)
class CycleRow:
    cycle: TreatmentCycle
    doses: str  # days given / planned, e.g. "3/5"
    planned_miu: Decimal  # the planned daily dose times the planned dosing days


@dataclass
class PatientOverview:
    patient: Patient
    follow_up: FollowUp
    identity: PatientIdentity | None
    enrolment: Enrolment | None
    diagnosis: Diagnosis | None
    deceased_on: dt.date | None
    consents: list[Consent]
    withdrawals: list[ConsentWithdrawal]
    assessments: list[AlsfrsrAssessment]
    biomarkers: list[BiomarkerResult]
    events: list[ClinicalEvent]
    adverse_events: list[AdverseEvent]
    cycles: list[TreatmentCycle]
    dispensings: list[Dispensing]
    timeline: list[TimelineEntry] = field(default_factory=list)
    recall_notices: list[RecallNotice] = field(default_factory=list)

    def batches_before_onset(self, ae: AdverseEvent) -> list[str]:
        """The batch numbers the patient received for the last cycle started on or before the
        event's onset (pharmacovigilance of an unlicensed product, issue 16 item 4a)."""
        cycle = cycle_at(self.cycles, ae.onset_date)
        if cycle is None:
            return []
        return sorted({d.batch.batch_number for d in self.dispensings if d.cycle_id == cycle.pk})

    @property
    def treatment_withdrawn_on(self) -> dt.date | None:
        """The first withdrawal in force: every level stops treatment, so nothing is dispensed after it."""
        records = in_force(self.withdrawals)
        return records[0].effective_on if records else None

    @property
    def adverse_events_with_batches(self) -> list[tuple[AdverseEvent, list[str]]]:
        return [(ae, self.batches_before_onset(ae)) for ae in self.adverse_events]

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
    def pnfh_results(self) -> list[BiomarkerResult]:
        """The CSF pNFH results in sample order (pg/mL), for the chart against the MIROCALS strata."""
        return [b for b in self.biomarkers if b.analyte == Analyte.CSF_PNFH]

    @property
    def pnfh_rows(self) -> list[tuple[BiomarkerResult, str]]:
        """Each pNFH result with its MIROCALS stratum's label, for the chart's table."""
        return [(r, PNFH_STRATA.get(pnfh_stratum(r.value) or "", "")) for r in self.pnfh_results]

    @property
    def cycle_rows(self) -> list[CycleRow]:
        """Each cycle with its days given against the planned days and its dose against the plan."""
        return [
            CycleRow(c, f"{c.days_administered}/{DOSING_DAYS_PER_CYCLE}", c.planned_dose_miu * DOSING_DAYS_PER_CYCLE)
            for c in self.cycles
        ]

    @property
    def pnfh(self) -> BiomarkerResult | None:
        """The latest CSF pNFH result: the MIROCALS stratifier."""
        results = self.pnfh_results
        return results[-1] if results else None

    @property
    def open_adverse_events(self) -> list[AdverseEvent]:
        """Adverse events whose outcome is not closed (fatal or recovered), serious ones first: the
        same rule as the loose ends after a death (registry.selectors.CLOSED_AE_OUTCOMES)."""
        still_open = [ae for ae in self.adverse_events if ae.outcome not in CLOSED_AE_OUTCOMES]
        return sorted(still_open, key=lambda ae: not ae.serious)

    @property
    def pnfh_stratum(self) -> str | None:
        return pnfh_stratum(self.pnfh.value) if self.pnfh else None

    @property
    def pnfh_stratum_label(self) -> str:
        return PNFH_STRATA.get(self.pnfh_stratum or "", "Not measured")

    @property
    def current_consent(self) -> Consent | None:
        return self.consents[-1] if self.consents else None

    @property
    def gastrostomy(self) -> bool:
        """Gastrostomy recorded as an event, or item 5b used at the last assessment."""
        if any(e.event_type == EventType.GASTROSTOMY for e in self.events):
            return True
        latest = self.latest_assessment
        return bool(latest and latest.q5b_cutting_with_gastrostomy is not None)


def patient_overview(patient: Patient, user: User, today: dt.date, *, with_identity: bool = True) -> PatientOverview:
    """Everything on the patient page, one query per kind of record.

    `with_identity=False` reads no identifiers (and so logs no identity read): the printed
    summary shows none, whatever the role.
    """
    # Every display of identifiers is logged (registry.selectors.identities_for_display).
    identity = (
        identities_for_display(user, [patient], channel="web", path=f"/patients/{patient.study_id}/").get(patient.pk)
        if with_identity
        else None
    )
    enrolment = patient.enrolment if has_enrolment(patient) else None
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
        consents=_consents(patient.pk),
        withdrawals=_withdrawals(patient.pk),
        assessments=_assessments(patient.pk),
        biomarkers=_biomarkers(patient.pk),
        events=_events(patient.pk),
        adverse_events=_adverse_events(patient.pk),
        cycles=_cycles(patient.pk),
        dispensings=_dispensings(patient.pk),
    )
    overview.timeline = _timeline(overview)
    overview.recall_notices = _unacknowledged_recalls(patient.pk)
    return overview


# Each kind of record on the page, compiled once per process (`compiled_per_value`): compiling
# these reads was about a fifth of the page's CPU, though only the patient changes.


@compiled_per_value
def _consents(patient_id: int) -> models.QuerySet[Consent]:
    return Consent.objects.filter(patient_id=patient_id).order_by("consent_date", "pk")


@compiled_per_value
def _withdrawals(patient_id: int) -> models.QuerySet[ConsentWithdrawal]:
    return ConsentWithdrawal.objects.filter(patient_id=patient_id).select_related(
        "recorded_by", "correction", "corrects"
    )


@compiled_per_value
def _assessments(patient_id: int) -> models.QuerySet[AlsfrsrAssessment]:
    return AlsfrsrAssessment.objects.filter(patient_id=patient_id).order_by("assessment_date")


@compiled_per_value
def _biomarkers(patient_id: int) -> models.QuerySet[BiomarkerResult]:
    return BiomarkerResult.objects.filter(patient_id=patient_id).order_by("sample_date", "analyte")


@compiled_per_value
def _events(patient_id: int) -> models.QuerySet[ClinicalEvent]:
    return ClinicalEvent.objects.filter(patient_id=patient_id).order_by("event_date", "pk")


@compiled_per_value
def _adverse_events(patient_id: int) -> models.QuerySet[AdverseEvent]:
    return AdverseEvent.objects.filter(patient_id=patient_id).select_related("sae_alert").order_by("onset_date", "pk")


@compiled_per_value
def _cycles(patient_id: int) -> models.QuerySet[TreatmentCycle]:
    return TreatmentCycle.objects.filter(patient_id=patient_id).order_by("cycle_number")


@compiled_per_value
def _dispensings(patient_id: int) -> models.QuerySet[Dispensing]:
    return (
        Dispensing.objects.filter(patient_id=patient_id)
        .select_related("batch__product", "cycle")
        .order_by("dispensed_on", "pk")
    )


@compiled_per_value
def _unacknowledged_recalls(patient_id: int) -> models.QuerySet[RecallNotice]:
    return RecallNotice.objects.filter(patient_id=patient_id, acknowledged_at__isnull=True).select_related("batch")


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
    entries.extend(
        TimelineEntry(w.effective_on, "Consent", "Consent withdrawn", w.get_level_display(), w, "", "warn")
        for w in o.withdrawals
        if w.counts and w.effective_on
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


#: The kinds of timeline entry, in the order the filter offers them.
TIMELINE_KINDS = (
    "ALSFRS-R",
    "Biomarker",
    "Cycle",
    "Dispensing",
    "Adverse event",
    "Event",
    "Consent",
    "Diagnosis",
    "Enrolment",
)


def timeline_filtered(
    entries: list[TimelineEntry], *, kind: str = "", since: dt.date | None = None, until: dt.date | None = None
) -> list[TimelineEntry]:
    """The timeline of one kind of entry (any when empty) between two dates (inclusive, open when None)."""
    return [
        entry
        for entry in entries
        if (not kind or entry.kind == kind)
        and (since is None or entry.date >= since)
        and (until is None or entry.date <= until)
    ]
