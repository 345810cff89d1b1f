"""Each enrolment's next due dates, kept on the enrolment (`Enrolment.next_cycle_due`,
`Enrolment.next_alsfrsr_due`) with the patient's site, so the dispensing worklist and the patient
list's "cycle overdue" and "ALSFRS-R due" filters and "ALSFRS-R due first" sort read an indexed
column instead of computing every patient's last cycle or assessment on each request (issue 16,
item 6; issue 18).

The rules: the next cycle is due 28 days after the latest cycle's start, else at the first dose,
else at the enrolment date, and never for a registry-only (untreated) enrolment; the next ALSFRS-R
is due `ALSFRSR_INTERVAL_DAYS` after the latest assessment, else after the enrolment date. Neither
is due once follow-up has ended (death, withdrawal from the programme, loss to follow-up, consent
withdrawn at any level: `registry.follow_up.follow_up_ended`). They are the rules
`selectors.follow_up.follow_up` applies to one patient's annotations (the pages' tests check both
agree on every follow-up state). So "due by a day" is the date alone: an index range scan with no
per-patient probe of the cycles, assessments, events and withdrawals (issue 18, item 3).

`next_due_refresh` is the one function that writes them: the enrolment and cycle services (so
dispensing a cycle too) call it for their patient; the registry's ALSFRS-R, event and withdrawal
services through `registry.follow_up.follow_up_changed` (registered in `AppConfig.ready`, as the
registry may not import this app); the cohort import and the demo seeding for each chunk's
patients; and the migrations for everyone. It writes with an UPDATE, so a refresh adds no history
row (derived values, like a score; history rows keep the values they had when written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.apps import apps as installed_apps
from django.apps.registry import Apps
from django.db import models
from django.db.models import DateField, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce

from registry.constants import ALSFRSR_INTERVAL_DAYS, CYCLE_LENGTH_DAYS
from registry.follow_up import follow_up_ended
from registry.precompiled import Update, compiled_updates_per_value

NO_TREATMENT_ROUTE = "none"  # RouteCode.NONE, spelled out so the migration can use this module


def _after(latest: models.QuerySet[Any], field: str, days: int) -> Cast:
    return Cast(Subquery(latest.values(field)[:1]) + dt.timedelta(days=days), DateField())


def next_due_refresh(
    patient_ids: Iterable[int] | None = None,
    *,
    apps: Apps | None = None,
    state_0008: bool = False,
    alsfrsr: bool = True,
) -> int:
    """Recompute `next_cycle_due`, `next_alsfrsr_due` and `site` for these patients' enrolments
    (all when None), in three UPDATEs.

    `apps` gives the models (a migration passes its historical state); `state_0008` is the rule
    as migration 0008 ran it, before the site column and the withdrawal records existed (0013
    refills every row), and `alsfrsr=False` leaves out the ALSFRS-R date, for the states before
    access_programme 0014 added it. Returns the number of enrolments updated.

    One patient (every save of the web, the API and the admin) runs the same UPDATEs compiled once
    per process (`_refresh_one`).
    """
    if patient_ids is not None and apps is None and not state_0008 and alsfrsr:
        ids = list(patient_ids)
        if len(ids) == 1:
            return _refresh_one(ids[0])
        patient_ids = ids
    apps = apps or installed_apps
    rows: models.QuerySet[Any] = apps.get_model("access_programme", "Enrolment").objects.all()
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=list(patient_ids))
    if state_0008:
        cycle_due = _cycle_due(apps)
        none = Q(route__code=NO_TREATMENT_ROUTE)
        return rows.exclude(none).update(next_cycle_due=cycle_due) + rows.filter(none).update(next_cycle_due=None)
    return sum(queryset.update(**values) for queryset, values in _refresh_updates(rows, apps, alsfrsr=alsfrsr))


def _cycle_due(apps: Apps) -> Coalesce:
    cycles = apps.get_model("access_programme", "TreatmentCycle")
    latest_cycle = cycles.objects.filter(patient_id=OuterRef("patient_id")).order_by("-start_date", "-cycle_number")
    return Coalesce(
        _after(latest_cycle, "start_date", CYCLE_LENGTH_DAYS),
        "first_dose_date",
        "enrolment_date",
        output_field=DateField(),
    )


def _refresh_updates(rows: models.QuerySet[Any], apps: Apps, *, alsfrsr: bool) -> list[Update]:
    """The three UPDATEs of `rows`: follow-up ended, followed and treated, followed and untreated."""
    site = Subquery(
        apps.get_model("registry", "Patient").objects.filter(pk=OuterRef("patient_id")).values("site_id")[:1]
    )
    ended = follow_up_ended(
        OuterRef("patient_id"),
        events=apps.get_model("registry", "ClinicalEvent"),
        withdrawals=apps.get_model("registry", "ConsentWithdrawal"),
    )
    untreated = Q(route__code=NO_TREATMENT_ROUTE)
    followed: dict[str, Any] = {"next_cycle_due": _cycle_due(apps), "site_id": site}
    not_followed: dict[str, Any] = {"next_cycle_due": None, "site_id": site}
    if alsfrsr:
        assessments = apps.get_model("registry", "AlsfrsrAssessment").objects
        latest = assessments.filter(patient_id=OuterRef("patient_id")).order_by("-assessment_date")
        alsfrsr_due = Coalesce(
            _after(latest, "assessment_date", ALSFRSR_INTERVAL_DAYS),
            Cast(F("enrolment_date") + dt.timedelta(days=ALSFRSR_INTERVAL_DAYS), DateField()),
            output_field=DateField(),
        )
        followed["next_alsfrsr_due"], not_followed["next_alsfrsr_due"] = alsfrsr_due, None
    return [
        (rows.filter(ended), not_followed),
        (rows.exclude(ended).exclude(untreated), followed),
        (rows.exclude(ended).filter(untreated), {**followed, "next_cycle_due": None}),
    ]


@compiled_updates_per_value
def _refresh_one(patient_id: int) -> list[Update]:
    """`next_due_refresh` of one patient's enrolment."""
    rows = installed_apps.get_model("access_programme", "Enrolment").objects.filter(patient_id=patient_id)
    return _refresh_updates(rows, installed_apps, alsfrsr=True)
