"""Reads. `patients_visible_to` is the one rule deciding which patients a user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db import models

from registry.meta import concrete_field
from registry.models import (
    AlsfrsrAssessment,
    EventType,
    IdentityAccess,
    Patient,
    PatientIdentity,
    Role,
    SeriousAdverseEventAlert,
    Site,
    User,
)

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


def patients_visible_to(user: User, *, read_sites_first: bool = False) -> models.QuerySet[Patient]:
    """The patients of the user's sites (all sites for analysts and data managers).

    With `read_sites_first`, the user's site ids are read at once (one query) and the patients
    filtered by them as literals, `site_id IN (1, 2)`, instead of by a sub-select: the planner can
    then walk the (site, study_id) index to the first page of a site instead of the whole
    study_id index. Same rule, same rows.
    """
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    if sees_all_sites(user):
        return Patient.objects.all()
    if read_sites_first:
        return Patient.objects.filter(site_id__in=list(user.sites.values_list("pk", flat=True)))
    return Patient.objects.filter(site__in=user.sites.all())


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
    visible = patients_visible_to(user).filter(pk__in=[p.pk for p in patients]).values_list("pk", flat=True)
    identities = {i.patient_id: i for i in PatientIdentity.objects.filter(patient_id__in=list(visible))}
    IdentityAccess.objects.bulk_create(
        [IdentityAccess(user=user, patient_id=pid, channel=channel, path=path[:300]) for pid in identities]
    )
    return identities
