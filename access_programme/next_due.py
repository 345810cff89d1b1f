"""Each enrolment's next cycle due date, kept on the enrolment (`Enrolment.next_cycle_due`) so the
dispensing worklist and the "cycle overdue" filter read an indexed column instead of computing
every patient's last cycle on each request (issue 16, item 6).

The rule: the latest cycle's start + 28 days, else the first dose, else the enrolment date; none
for a registry-only (untreated) enrolment, and none once follow-up has ended (death, withdrawal
from the programme, loss to follow-up, consent withdrawn at any level:
`registry.follow_up.follow_up_ended`). It is the rule `selectors.follow_up.follow_up` applies
to one patient's annotations (the pages' tests check both agree on every follow-up state). So
"due by a day" is the date alone: the worklist and the "cycle overdue" filter are an index range
scan with no per-patient probe of the events and withdrawals (issue 18, item 3).

`next_cycle_due_refresh` is the one function that writes it: the enrolment and cycle services
(so dispensing a cycle too) call it for their patient, the registry's event and withdrawal
services through `registry.follow_up.follow_up_changed` (registered in `AppConfig.ready`), the
cohort import and the demo seeding for each chunk's patients, and the migrations for everyone.
It writes with an UPDATE, so a refresh adds no history row (a derived value, like a score;
history rows keep the value it had when they were written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.apps import apps as installed_apps
from django.apps.registry import Apps
from django.db import models
from django.db.models import DateField, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce

from registry.constants import CYCLE_LENGTH_DAYS
from registry.follow_up import follow_up_ended

NO_TREATMENT_ROUTE = "none"  # RouteCode.NONE, spelled out so the migration can use this module


def next_cycle_due_refresh(
    patient_ids: Iterable[int] | None = None, *, apps: Apps | None = None, state_0008: bool = False
) -> int:
    """Recompute `next_cycle_due` and `site` for these patients' enrolments (all when None), in two UPDATEs.

    `apps` gives the models (a migration passes its historical state); `state_0008` is the rule
    as migration 0008 ran it, before the site column and the withdrawal records existed (0013
    refills every row). Returns the number of enrolments updated.
    """
    apps = apps or installed_apps
    enrolments, cycles = (
        apps.get_model("access_programme", "Enrolment"),
        apps.get_model("access_programme", "TreatmentCycle"),
    )
    rows: models.QuerySet[Any] = enrolments.objects.all()
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=list(patient_ids))
    latest = cycles.objects.filter(patient_id=OuterRef("patient_id")).order_by("-start_date", "-cycle_number")
    after_latest = Cast(Subquery(latest.values("start_date")[:1]) + dt.timedelta(days=CYCLE_LENGTH_DAYS), DateField())
    due = Coalesce(after_latest, "first_dose_date", "enrolment_date", output_field=DateField())
    if state_0008:
        none = Q(route__code=NO_TREATMENT_ROUTE)
        return rows.exclude(none).update(next_cycle_due=due) + rows.filter(none).update(next_cycle_due=None)
    site = Subquery(
        apps.get_model("registry", "Patient").objects.filter(pk=OuterRef("patient_id")).values("site_id")[:1]
    )
    ended = follow_up_ended(
        OuterRef("patient_id"),
        events=apps.get_model("registry", "ClinicalEvent"),
        withdrawals=apps.get_model("registry", "ConsentWithdrawal"),
    )
    none = Q(route__code=NO_TREATMENT_ROUTE) | ended
    followed = rows.exclude(none).update(next_cycle_due=due, site_id=site)
    not_followed = rows.filter(none).update(next_cycle_due=None, site_id=site)
    return int(followed) + int(not_followed)
