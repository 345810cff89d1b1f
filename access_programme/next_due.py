"""Each enrolment's next cycle due date, kept on the enrolment (`Enrolment.next_cycle_due`) so the
dispensing worklist and the "cycle overdue" filter read an indexed column instead of computing
every patient's last cycle on each request (issue 16, item 6).

The rule: the latest cycle's start + 28 days, else the first dose, else the enrolment date; none
for a registry-only (untreated) enrolment. It is the rule `selectors.follow_up.follow_up` applies
to one patient's annotations (the pages' tests check both agree on every follow-up state).
Whether the patient is still in follow-up (death, withdrawal) is not part of it: the pages keep
asking that.

`next_cycle_due_refresh` is the one function that writes it: the enrolment and cycle services
(so dispensing a cycle too) call it for their patient, the cohort import and the demo seeding
for each chunk's patients, and the migration that added the column for everyone. It writes with
an UPDATE, so a refresh adds no history row (a derived value, like a score; history rows keep
the value it had when they were written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import DateField, OuterRef, Subquery
from django.db.models.functions import Cast, Coalesce

from registry.constants import CYCLE_LENGTH_DAYS

NO_TREATMENT_ROUTE = "none"  # RouteCode.NONE, spelled out so the migration can use this module


def next_cycle_due_refresh(
    patient_ids: Iterable[int] | None = None, *, enrolments: Any = None, cycles: Any = None
) -> int:
    """Recompute `next_cycle_due` for these patients' enrolments (all when None), in two UPDATEs.

    `enrolments` and `cycles` are the model classes (the migration passes its historical ones).
    Returns the number of enrolments updated.
    """
    if enrolments is None or cycles is None:
        from access_programme.models import Enrolment, TreatmentCycle

        enrolments, cycles = Enrolment, TreatmentCycle
    rows: models.QuerySet[Any] = enrolments.objects.all()
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=list(patient_ids))
    latest = cycles.objects.filter(patient_id=OuterRef("patient_id")).order_by("-start_date", "-cycle_number")
    after_latest = Cast(Subquery(latest.values("start_date")[:1]) + dt.timedelta(days=CYCLE_LENGTH_DAYS), DateField())
    due = Coalesce(after_latest, "first_dose_date", "enrolment_date", output_field=DateField())
    treated = rows.exclude(route__code=NO_TREATMENT_ROUTE).update(next_cycle_due=due)
    untreated = rows.filter(route__code=NO_TREATMENT_ROUTE).exclude(next_cycle_due=None).update(next_cycle_due=None)
    return int(treated) + int(untreated)
