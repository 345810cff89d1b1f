"""Reads. `patients_visible_to` is the one rule deciding which patients a user may see."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.utils import timezone

from registry.constants import ALSFRSR_INTERVAL_DAYS, CYCLE_LENGTH_DAYS, DOSING_DAYS_PER_CYCLE
from registry.meta import concrete_field
from registry.models import (
    AdverseEvent,
    AeOutcome,
    AlsfrsrAssessment,
    CaseStatus,
    ConsentWithdrawal,
    CtcaeGrade,
    DataQualityRule,
    DataQuery,
    EventType,
    IdentityAccess,
    Notification,
    Patient,
    PatientIdentity,
    QueryStatus,
    Role,
    SafetyCase,
    SeriousAdverseEventAlert,
    Signature,
    SignatureScope,
    Site,
    User,
    WithdrawalLevel,
    withdrawals_in_force,
)
from registry.precompiled import compiled_per_value
from registry.quality import MISSING_VISIT, follow_up_ends

M = TypeVar("M", bound=models.Model)

ALL_SITE_ROLES = frozenset({Role.ANALYST, Role.DATA_MANAGER})


def sees_all_sites(user: User) -> bool:
    return bool(user.is_superuser or user.role in ALL_SITE_ROLES)


def can_see_identity(user: User | AnonymousUser) -> bool:
    """Analysts work on pseudonymised data only; everyone else with access may see identity."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role != Role.ANALYST))


def sites_visible_to(user: User) -> models.QuerySet[Site]:
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if sees_all_sites(user):
        return Site.objects.all()
    return user.sites.all()


#: Where `user_sites` keeps its answer on the user object.
SITES_CACHE = "_visible_sites"


def user_sites(user: User) -> list[Site]:
    """`sites_visible_to`, by code, read once per user object: a web request's user is loaded
    for that request alone, so the site scope is computed once per request however many
    selectors ask for it. Changing the user's sites (`user.sites.add/remove/set/clear`) or saving
    the user (role, active) forgets it (`forget_user_sites`)."""
    cached: list[Site] | None = user.__dict__.get(SITES_CACHE)
    if cached is None:
        cached = list(sites_visible_to(user).order_by("code"))
        if user.is_authenticated:
            user.__dict__[SITES_CACHE] = cached
    return cached


def forget_user_sites(instance: object, **kwargs: Any) -> None:
    """m2m_changed receiver for `User.sites`, post_save for `User`: the kept site scope is out of date."""
    if isinstance(instance, User):
        instance.__dict__.pop(SITES_CACHE, None)


def site_ids_visible_to(user: User) -> list[int] | None:
    """The ids of the user's sites (`user_sites`, read once per request), or None for every
    site (analysts and data managers): for filtering a table that carries the site itself."""
    if user.is_authenticated and user.is_active and sees_all_sites(user):
        return None
    return [site.pk for site in user_sites(user)]


def patients_visible_to(
    user: User, *, read_sites_first: bool = False, within: models.QuerySet[Patient] | None = None
) -> models.QuerySet[Patient]:
    """The patients of the user's sites (all sites for analysts and data managers), taken from
    `within` (a queryset of every patient, e.g. one already annotated) or from all patients.

    With `read_sites_first`, the user's site ids are read at once (`user_sites`: one query per
    request) and the patients
    filtered by them as literals, `site_id IN (1, 2)`, instead of by a sub-select: the planner can
    then walk the (site, study_id) index to the first page of a site instead of the whole
    study_id index. Same rule, same rows.
    """
    patients = Patient.objects.all() if within is None else within
    if not user.is_authenticated or not user.is_active:
        return patients.none()
    if sees_all_sites(user):
        return patients.all()
    if read_sites_first:
        return patients.filter(site_id__in=[site.pk for site in user_sites(user)])
    return patients.filter(site__in=user.sites.all())


def records_visible_to(user: User, model: type[M], patient_path: str = "patient") -> models.QuerySet[M]:
    """Any patient-owned record, scoped through the same rule as patients."""
    queryset = model._default_manager.all()
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if sees_all_sites(user):
        return queryset
    return queryset.filter(**{f"{patient_path}__site__in": user.sites.all()})


# --- web app ---------------------------------------------------------------------------------


def sae_alerts_visible_to(user: User) -> models.QuerySet[SeriousAdverseEventAlert]:
    """Serious-AE alerts of the patients the user may see, unacknowledged first."""
    patients = patients_visible_to(user)
    return (
        SeriousAdverseEventAlert.objects.filter(adverse_event__patient__in=patients)
        .select_related("adverse_event__patient__site", "raised_by", "acknowledged_by")
        .order_by(models.F("acknowledged_at").desc(nulls_first=True), "-raised_at")
    )


def safety_cases_visible_to(user: User) -> models.QuerySet[SafetyCase]:
    """Safety cases of the patients the user may see, with what their pages and listings show."""
    return (
        SafetyCase.objects.filter(adverse_event__patient__in=patients_visible_to(user))
        .select_related("adverse_event__patient__site")
        .prefetch_related("reports")
    )


def open_safety_cases(user: User) -> list[SafetyCase]:
    """Cases not closed: initial report awaited first (soonest due first, "as soon as possible"
    before fixed limits), then reported cases awaiting follow-up."""
    cases = list(safety_cases_visible_to(user).exclude(status=CaseStatus.CLOSED))
    far = timezone.now() + dt.timedelta(days=3650)
    return sorted(cases, key=lambda c: (c.status != CaseStatus.OPEN, c.initial_due_at or c.aware_at or far, c.pk))


def notifications_of(user: User) -> models.QuerySet[Notification]:
    """The user's own in-app notifications, newest first."""
    return Notification.objects.filter(user=user)


def unread_notifications(user: User) -> models.QuerySet[Notification]:
    return notifications_of(user).filter(read_at__isnull=True)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: object
    new: object


@dataclass(frozen=True)
class HistoryEntry:
    """One version of a record: who saved it, when, why, and what changed from the previous one."""

    version: object
    changes: list[FieldChange]


def record_history(instance: models.Model, limit: int | None = None) -> list[HistoryEntry]:
    """A record's audit trail, newest first, with field-by-field differences (one query).

    With `limit`, only the newest versions are returned (a batch gains one per dispensing).
    """
    history = instance.history.select_related("history_user").order_by("-history_date", "-history_id")  # type: ignore[attr-defined]
    versions = list(history[: limit + 1] if limit else history)
    hidden = {"version", "updated_at", "created_at", "id"}
    entries: list[HistoryEntry] = []
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        changes: list[FieldChange] = []
        if older is not None:
            delta = newer.diff_against(older, excluded_fields=hidden)
            for change in delta.changes:
                field = concrete_field(instance, change.field)
                choices = dict(field.flatchoices) if getattr(field, "flatchoices", None) else {}
                changes.append(
                    FieldChange(
                        str(field.verbose_name),
                        choices.get(change.old, change.old),
                        choices.get(change.new, change.new),
                    )
                )
        entries.append(HistoryEntry(newer, changes))
    return entries[:limit] if limit else entries


def has_gastrostomy(patient: Patient) -> bool:
    """Gastrostomy recorded as an event, or item 5b scored at the latest ALSFRS-R (two queries at most).

    It decides which version of ALSFRS-R item 5 the next assessment offers first.
    """
    if patient.events.filter(event_type=EventType.GASTROSTOMY).exists():
        return True
    latest = AlsfrsrAssessment.objects.filter(patient=patient).order_by("-assessment_date").first()
    return bool(latest and latest.q5b_cutting_with_gastrostomy is not None)


def identities_for_display(
    user: User, patients: list[Patient], *, channel: str, path: str = ""
) -> dict[int, PatientIdentity]:
    """The identities a user may see for these patients; every one returned is logged as read.

    The only sanctioned way to read identifiers for display, so the access log is complete.
    """
    if not can_see_identity(user) or not patients:
        return {}
    # One query: the identities of those of the patients the user may see (the scope as a sub-select).
    visible = patients_visible_to(user).filter(pk__in=[p.pk for p in patients]).values("pk")
    identities = {i.patient_id: i for i in PatientIdentity.objects.filter(patient_id__in=visible)}
    identity_reads_log(user, list(identities), channel=channel, path=path)
    return identities


def identity_reads_log(user: User, patient_ids: list[int], *, channel: str, path: str = "") -> None:
    """Log that `user` was shown the identities of these patients (web, API, admin, exports)."""
    IdentityAccess.objects.bulk_create(
        [
            IdentityAccess(user=user, patient_id=pid, channel=channel, path=path[:300])
            for pid in dict.fromkeys(patient_ids)
        ]
    )


# --- data quality -----------------------------------------------------------------------------

#: Age bands of open queries on the data-quality page (days since raised, upper bound inclusive).
QUERY_AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("0–7 days", 7),
    ("8–30 days", 30),
    ("31–90 days", 90),
    ("over 90 days", None),
)


def data_queries_visible_to(user: User) -> models.QuerySet[DataQuery]:
    """Queries on the patients the user may see, the most severe and oldest first."""
    order = models.Case(models.When(severity="critical", then=0), models.When(severity="major", then=1), default=2)
    return (
        DataQuery.objects.filter(patient__in=patients_visible_to(user))
        .select_related("patient__site", "record_type", "raised_by", "answered_by", "closed_by")
        .order_by(order, "raised_at")
    )


@dataclass(frozen=True)
class SiteQuality:
    """The data-quality page of one site."""

    site: Site
    open_by_age: list[tuple[str, int]]
    answered: int
    patients: int
    expected_visits: int
    visits_done: int
    unsigned_casebooks: int

    @property
    def open_total(self) -> int:
        return sum(count for _, count in self.open_by_age)

    @property
    def completeness(self) -> float | None:
        return None if not self.expected_visits else 100 * self.visits_done / self.expected_visits


def site_quality(site: Site, today: dt.date, *, unsigned_casebooks: int = 0) -> SiteQuality:
    """Open queries by age, answered ones awaiting the data manager, and completeness of the
    expected ALSFRS-R visits (baseline, then one per interval of the missing-visit rule, due
    once their window is over, up to death or withdrawal from data collection)."""
    queries = DataQuery.objects.filter(patient__site=site)
    open_ages = [
        (today - raised.date()).days
        for raised in queries.filter(status=QueryStatus.OPEN).values_list("raised_at", flat=True)
    ]
    bands: list[tuple[str, int]] = []
    lower = -1
    for label, upper in QUERY_AGE_BANDS:
        bands.append((label, sum(1 for age in open_ages if age > lower and (upper is None or age <= upper))))
        lower = upper if upper is not None else lower
    rule = DataQualityRule.objects.filter(code=MISSING_VISIT).first()
    interval = int(rule.parameter("interval_days", 91)) if rule else 91
    grace = int(rule.parameter("grace_days", 28)) if rule else 28
    patients = dict(Patient.objects.filter(site=site).values_list("pk", "created_at"))
    ends = follow_up_ends(list(patients))
    visits: dict[int, list[dt.date]] = defaultdict(list)
    for patient_id, day in (
        AlsfrsrAssessment.objects.filter(patient__site=site)
        .order_by("assessment_date")
        .values_list("patient_id", "assessment_date")
    ):
        visits[patient_id].append(day)
    expected = done = 0
    for patient_id, created in patients.items():
        days = visits.get(patient_id, [])
        baseline = days[0] if days else created.date()
        end = min(today, ends.get(patient_id, today))
        due = 1 + max(0, (end - baseline).days - grace) // interval
        expected += due
        done += len({min(round((day - baseline).days / interval), due - 1) for day in days})
    return SiteQuality(
        site=site,
        open_by_age=bands,
        answered=queries.filter(status=QueryStatus.ANSWERED).count(),
        patients=len(patients),
        expected_visits=expected,
        visits_done=min(done, expected),
        unsigned_casebooks=unsigned_casebooks,
    )


# --- signatures -------------------------------------------------------------------------------


def signatures_of(patient: Patient) -> list[Signature]:
    """The patient's signatures, valid first, newest first."""
    return _signatures_of(patient.pk)


@compiled_per_value  # read on every patient page: compiled once (registry.precompiled)
def _signatures_of(patient_id: int) -> models.QuerySet[Signature]:
    return (
        Signature.objects.filter(patient_id=patient_id)
        .select_related("signer", "invalidated_by", "record_type")
        .order_by(models.F("invalidated_at").desc(nulls_first=True), "-signed_at")
    )


def unsigned_casebooks(site: Site) -> models.QuerySet[Patient]:
    """The site's patients whose casebook has no valid signature."""
    signed = Signature.objects.filter(scope=SignatureScope.CASEBOOK, invalidated_at__isnull=True).values("patient_id")
    return Patient.objects.filter(site=site).exclude(pk__in=signed)


# --- a death's loose ends --------------------------------------------------------------------

#: Adverse event outcomes that close an event at death: fatal, or recovered before it.
CLOSED_AE_OUTCOMES = frozenset({AeOutcome.FATAL, AeOutcome.RECOVERED, AeOutcome.RECOVERED_WITH_SEQUELAE})


@dataclass(frozen=True)
class LooseEnd:
    """Something to settle after a death: what, and the record it concerns (if any)."""

    kind: str  # "adverse_event", "cycle", "final_alsfrsr", "fatal_ae_without_death"
    message: str
    record_id: int | None = None


def death_loose_ends(patient: Patient, death: dt.date | None) -> list[LooseEnd]:
    """What the clinician settles after a death: adverse events still open (their outcome must be
    fatal, or recovered before death), a cycle still open at death, no ALSFRS-R in the last
    interval before death. Empty while the patient is alive."""
    if death is None:
        return []
    ends = [
        LooseEnd(
            "adverse_event",
            f"{ae.term} (onset {ae.onset_date:%d %b %Y}) is still {ae.get_outcome_display().lower()}: "
            "set its outcome (fatal, or recovered before death).",
            ae.pk,
        )
        for ae in AdverseEvent.objects.filter(patient=patient).exclude(outcome__in=CLOSED_AE_OUTCOMES)
    ]
    cycles = patient.cycles  # access_programme's cycles: a floor above, reached by relation
    for cycle in cycles.filter(interrupted=False, start_date__gt=death - dt.timedelta(days=CYCLE_LENGTH_DAYS)):
        if cycle.days_administered < DOSING_DAYS_PER_CYCLE:
            ends.append(
                LooseEnd(
                    "cycle",
                    f"Cycle {cycle.cycle_number} (from {cycle.start_date:%d %b %Y}) was open at death: "
                    "mark it interrupted, with the doses given.",
                    cycle.pk,
                )
            )
    since = death - dt.timedelta(days=ALSFRSR_INTERVAL_DAYS)
    if not AlsfrsrAssessment.objects.filter(patient=patient, assessment_date__range=(since, death)).exists():
        ends.append(
            LooseEnd(
                "final_alsfrsr",
                f"No ALSFRS-R in the {ALSFRSR_INTERVAL_DAYS} days before death: record the last "
                "one known (dated on or before the death).",
            )
        )
    return ends


def fatal_events_without_death(adverse_events: Iterable[AdverseEvent], death: dt.date | None) -> list[AdverseEvent]:
    """Grade 5 events of a patient whose death is not recorded: the death is to be recorded on their date."""
    return [] if death is not None else [ae for ae in adverse_events if ae.ctcae_grade == CtcaeGrade.DEATH]


def patients_withdrawn_from_data_use() -> models.QuerySet[ConsentWithdrawal, Any]:
    """Ids of patients who withdrew the use of their data (a withdrawal in force at that level,
    whatever its date): left out of new exports and analyses (their records stay, for the audit
    trail and the records the law keeps)."""
    return withdrawals_in_force().filter(level=WithdrawalLevel.NO_DATA_USE).values("patient_id").distinct()
