"""The pharmacists' dispensing worklist and the batches a supply may come from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Enrolment,
    Product,
    Route,
    dispense_ahead_days,
)
from access_programme.selectors.follow_up import (
    follow_up,
    treated,
)
from access_programme.selectors.patient_list import annotated_in_order, patients_with_follow_up
from registry.models import (
    Patient,
    User,
)
from registry.selectors import (
    patients_visible_to,
    site_ids_visible_to,
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


def _page_number(number: str | int | None) -> int:
    """The page asked for, numbers below 1 and words read as the first (`get_page` gives the last
    page for a number past the end, and for 0)."""
    try:
        return max(int(number or 1), 1)
    except ValueError:
        return 1


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

    The count is a range of the enrolments' (site, next due date) index, both kept by
    `access_programme.next_due` (the date empty for a patient out of follow-up or untreated), with
    no probe per patient; the page joins the patients for the study id of its rows; the rest of
    the follow-up state is read for the page's rows alone.
    """
    horizon = today + dt.timedelta(days=horizon_days or dispense_ahead_days())
    due = Enrolment.objects.filter(next_cycle_due__lte=horizon)  # empty out of follow-up (next_due)
    sites = site_ids_visible_to(user)
    if sites is not None:
        due = due.filter(site_id__in=sites)  # the patient's site, kept on the enrolment (next_due)
    ids = due.order_by("next_cycle_due", "patient__study_id").values_list("patient_id", flat=True)
    found = Paginator(ids, per_page or WORKLIST_PAGE_SIZE).get_page(_page_number(page))
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
    patient = patients_visible_to(user, within=patients_with_follow_up()).filter(treated(), study_id=study_id).first()
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
