"""The clinicians' patient list: filtered, sorted and paged in SQL before follow-up is annotated."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Exists

from access_programme.models import (
    Route,
)
from access_programme.selectors.follow_up import (
    ALSFRSR_DUE_SOON_DAYS,
    KEPT_DATE_SORTS,
    SORTS,
    DueFilter,
    FollowUp,
    follow_up,
    kept_date_order,
    open_sae,
    status_is,
    with_follow_up,
)
from registry.models import (
    Patient,
    User,
)
from registry.precompiled import with_subqueries_compiled
from registry.selectors import (
    patients_visible_to,
    site_ids_visible_to,
)

# --- the clinicians' patient list --------------------------------------------------------

#: Patients per page of the list.
PAGE_SIZE = 25


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
    patients = _found(user, today=today, query=query, route=route, status=status, site=site, due=due)
    return patients.order_by(*SORTS.get(sort, SORTS["study_id"])[1])


def _found(
    user: User, *, today: dt.date, query: str = "", route: str = "", status: str = "", site: str = "", due: str = ""
) -> models.QuerySet[Patient]:
    """`patient_list` before its sort."""
    patients = patients_visible_to(user, read_sites_first=True)
    if query:  # on PostgreSQL from the trigram index (registry migration 0018), not a scan of the sites
        patients = patients.filter(study_id__icontains=query.strip())
    if route or due in (DueFilter.ALSFRSR, DueFilter.CYCLE):
        # By the site the enrolment keeps (`next_due`) too: the planner then reads a range of the
        # (site, due date) indexes, or the site's enrolments, instead of every enrolment or a probe
        # per patient of the site. The same patients: both sites are the patient's.
        patients = _enrolled_at_sites_of(user, patients)
    if route:
        patients = patients.filter(enrolment__route__code=route)
    if site:
        patients = patients.filter(site__code=site)
    if status:
        patients = patients.filter(status_is(status))
    if due == DueFilter.ALSFRSR:  # the kept dates are empty out of follow-up
        patients = patients.filter(enrolment__next_alsfrsr_due__lte=today + dt.timedelta(days=ALSFRSR_DUE_SOON_DAYS))
    elif due == DueFilter.CYCLE:
        patients = patients.filter(enrolment__next_cycle_due__lt=today)
    elif due == DueFilter.SAE:
        patients = patients.filter(Exists(open_sae()))
    return patients


def _enrolled_at_sites_of(user: User, patients: models.QuerySet[Patient]) -> models.QuerySet[Patient]:
    """These patients, by the site their enrolment keeps (`next_due`) being one of the user's:
    for the filters on the enrolment's columns, which leave out patients without one anyway."""
    sites = site_ids_visible_to(user)
    return patients if sites is None else patients.filter(enrolment__site_id__in=sites)


def annotated_in_order(ids: Sequence[int]) -> list[Patient]:
    """These patients with their follow-up annotations, in the order given (one query)."""
    patients = patients_with_follow_up().filter(pk__in=ids)
    by_id = {patient.pk: patient for patient in patients}
    return [by_id[pk] for pk in ids if pk in by_id]


@functools.cache
def patients_with_follow_up() -> models.QuerySet[Patient]:
    """Every patient with what a row of the list or the worklist (and the dispense page) shows,
    built once per process: building the follow-up annotations cost each of those views ~4 ms of
    CPU (issue 18, item 3), as on the patient page (`patient_page._annotated_patients`). Filtering
    makes a new queryset, so this one is never changed or evaluated; nothing in it depends on the
    user or the day. Its subqueries are compiled once too (`with_subqueries_compiled`)."""
    return with_subqueries_compiled(with_follow_up(Patient.objects.select_related("site", "enrolment__route")))


@dataclass(frozen=True)
class PatientListPage:
    page: Page  # of patient ids; page.paginator.count is the number of patients found
    rows: list[tuple[Patient, FollowUp]]


class KeptDateOrder:
    """The ids of `patients` in a `KEPT_DATE_SORTS` order (`date NULLS LAST, study_id`), for the
    Paginator, read as the two parts that order puts one after the other: the patients with the
    date, by date and study id, from the enrolment's (site, date) index; then those without it, by
    study id, from the patient's (site, study_id) index. One ORDER BY over a LEFT JOIN of every
    patient of the sites to its enrolment cannot use either index, so it joined and sorted them
    all for each page (30–45 ms of PostgreSQL at a site of 26,000 patients, docs/benchmarks.md).

    A page inside the first part costs one query, as before; the page where the parts meet, two;
    a page inside the second part, three (the first part's count). A walk costs what it skips,
    so from row `DEEP` on (page 101) a page is read by the one ORDER BY, as before. At a site of
    26,000 patients (PostgreSQL CPU, `bench/load/time_pages.py`): the walks 4 ms for page 1, 7–9 ms
    for page 40, 31 ms for page 100, 32 ms for page 400's first part alone; the one ORDER BY 31 ms
    for page 1, 45–52 ms from page 101 on. With the Paginator's count, the statements are
    separate, as they were: each is of its own moment."""

    DEEP = 2500

    def __init__(self, user: User, patients: models.QuerySet[Patient], sort: str) -> None:
        column = KEPT_DATE_SORTS[sort][0]
        self._all = patients
        # the rows with the date all have an enrolment, whose kept site is then the patient's
        dated = _enrolled_at_sites_of(user, patients.filter(**{f"{column}__isnull": False}))
        self._dated = dated.order_by(*kept_date_order(sort, nulls_last=False)).values_list("pk", flat=True)
        self._undated = patients.filter(**{f"{column}__isnull": True}).order_by("study_id").values_list("pk", flat=True)
        self._one_order = patients.order_by(*kept_date_order(sort)).values_list("pk", flat=True)

    def count(self) -> int:
        return self._all.count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[int]:
        return iter(self._one_order)

    @overload
    def __getitem__(self, rows: int) -> int: ...

    @overload
    def __getitem__(self, rows: slice) -> list[int]: ...

    def __getitem__(self, rows: int | slice) -> int | list[int]:
        if isinstance(rows, int):
            return self[rows : rows + 1][0]
        start, stop = rows.start or 0, rows.stop
        assert stop is not None and rows.step is None, "the Paginator asks for bounded slices"
        if start >= self.DEEP:
            return list(self._one_order[start:stop])
        ids = list(self._dated[start:stop])
        if len(ids) == stop - start:
            return ids
        dated = start + len(ids) if ids or start == 0 else self._dated.count()
        return ids + list(self._undated[max(start - dated, 0) : stop - dated])


def patient_list_page(
    user: User, *, today: dt.date, page: str | int | None, sort: str = "study_id", **filters: str
) -> PatientListPage:
    """One page of `patient_list` with what is due for each patient shown (three queries:
    the user's sites, the count, the page's ids, or more for a date sort, `KeptDateOrder`;
    then one for the rows)."""
    ids: KeptDateOrder | models.QuerySet[Patient, int]
    if sort in KEPT_DATE_SORTS:
        ids = KeptDateOrder(user, _found(user, today=today, **filters), sort)
    else:
        ids = patient_list(user, today=today, sort=sort, **filters).values_list("pk", flat=True)
    found = Paginator(ids, PAGE_SIZE).get_page(page)
    rows = [(patient, follow_up(patient, today)) for patient in annotated_in_order(list(found.object_list))]
    return PatientListPage(found, rows)


def routes() -> models.QuerySet[Route]:
    return Route.objects.order_by("code")
