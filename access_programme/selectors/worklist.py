"""The pharmacists' dispensing worklist and the batches a supply may come from."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count, Window

from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Product,
    Route,
    dispense_ahead_days,
)
from access_programme.selectors.follow_up import (
    follow_up,
    in_follow_up,
    treated,
    with_follow_up,
)
from access_programme.selectors.patient_list import annotated_in_order
from registry.models import (
    Patient,
    User,
)
from registry.selectors import (
    patients_visible_to,
)

# --- the pharmacists' worklist -----------------------------------------------------------

#: The dispensing worklist's default horizon; it looks as far ahead as a cycle may be dispensed
#: (`access_programme.models.dispense_ahead_days()`, the setting PHARMACY_DISPENSE_AHEAD_DAYS).
WORKLIST_HORIZON_DAYS = 7
#: Rows per page of the worklist.
WORKLIST_PAGE_SIZE = 50


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
        self.count = count  # overrides the cached property


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
    horizon_days: int | None = None,
    per_page: int | None = None,
) -> WorklistPage:
    """Patients in follow-up on a treatment route whose next 28-day cycle is due within the
    horizon (the dispensing window, `PHARMACY_DISPENSE_AHEAD_DAYS`, unless given), by due date
    (so overdue ones first), then study id; one page of them.

    Counting and ordering read the enrolment's kept next due date (`access_programme.next_due`,
    indexed) and the follow-up probes; the rest of the follow-up state is read for the page's
    rows alone.
    """
    horizon = today + dt.timedelta(days=horizon_days or dispense_ahead_days())
    due = (
        patients_visible_to(user, read_sites_first=True)
        .filter(in_follow_up(), enrolment__next_cycle_due__lte=horizon)
        .order_by("enrolment__next_cycle_due", "study_id")
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
        .filter(treated(), study_id=study_id)
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


def usable_batches(product: Product, on: dt.date, quantity: int = 1) -> list[Batch]:
    """Batches that may be dispensed, first-expiry-first-out."""
    candidates = Batch.objects.filter(
        product=product, status=BatchStatus.AVAILABLE, expiry_date__gte=on, quantity_remaining__gte=quantity
    ).order_by("expiry_date", "received_on", "batch_number")
    return list(candidates)
