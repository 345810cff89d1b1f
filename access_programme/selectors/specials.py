"""The specials register: every supply of an unlicensed special, with what the law asks a
supplier to record (Human Medicines Regulations 2012, SI 2012/1916, reg. 170; MHRA Guidance
Note 14, "The supply of unlicensed medicinal products (specials)").

For each supply: the source and the date obtained (the batch's supplier, its specials licence,
the receipt and its delivery note), the person supplied (study id; the name only for roles that
may see identities, each read logged), the date supplied, the quantity, the batch, any suspected
adverse reaction (the patient's adverse events in the cycle of the supply, by the rule of the
patient page, issue 16 item 4a: an event belongs to the last cycle started on or before its
onset; events judged "not related" are no suspected reaction) and the prescriber with the date
of the order (reg. 167). A page costs a fixed number of queries, whatever its length.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import models

from access_programme.models import Dispensing, MovementKind, StockMovement, TreatmentCycle
from access_programme.selectors.patient_page import cycle_at
from registry.models import AdverseEvent, PatientIdentity, Relatedness, Site, User
from registry.selectors import identities_for_display, records_visible_to, sites_visible_to

#: Supplies per page of the register.
SPECIALS_PAGE_SIZE = 50
#: The register's default period reaches back over the records' retention (reg. 170: 5 years).
SPECIALS_DEFAULT_YEARS = 5
#: Rows read at a time for an export.
SPECIALS_CHUNK = 1000


@dataclass(frozen=True)
class SpecialsFilter:
    start: dt.date
    end: dt.date
    site: Site | None = None

    def query_string(self) -> str:
        site = f"&site={self.site.code}" if self.site else ""
        return f"from={self.start.isoformat()}&to={self.end.isoformat()}{site}"


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (28 February for a 29 February)."""
    return day.replace(year=day.year - years, day=28 if (day.month, day.day) == (2, 29) else day.day)


def specials_filter(user: User, params: Mapping[str, str], today: dt.date) -> tuple[SpecialsFilter, list[str]]:
    """The period (`from`, `to`, inclusive, ISO dates) and site (`site`, a code among the user's
    sites) asked for, with the problems found; by default the last 5 years at every site."""
    errors: list[str] = []
    start = _day(params.get("from"))
    end = _day(params.get("to"))
    if (params.get("from") and start is None) or (params.get("to") and end is None):
        errors.append("Give the dates as YYYY-MM-DD.")
    start = start or _years_before(today, SPECIALS_DEFAULT_YEARS)
    end = end or today
    if end < start:
        errors.append("The period ends before it starts.")
    site = None
    if params.get("site"):
        site = sites_visible_to(user).filter(code=params["site"]).first()
        if site is None:
            errors.append("No such site among yours.")
    return SpecialsFilter(start, end, site), errors


@dataclass
class SpecialsSupply:
    """One row of the register."""

    dispensing: Dispensing
    identity: PatientIdentity | None = None
    delivery_note: str = ""
    adverse_events: list[AdverseEvent] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The patient's name, for a role that may see it (else empty)."""
        return f"{self.identity.given_name} {self.identity.family_name}" if self.identity is not None else ""

    @property
    def reactions(self) -> str:
        return "; ".join(
            f"{ae.term} (onset {ae.onset_date:%d %b %Y}, grade {ae.ctcae_grade}, {ae.get_relatedness_display().lower()}"
            f"{', serious' if ae.serious else ''})"
            for ae in self.adverse_events
        )


def specials_supplies(user: User, wanted: SpecialsFilter) -> models.QuerySet[Dispensing]:
    """Supplies of unlicensed specials to the user's patients in the period (at the site asked)."""
    supplies = records_visible_to(user, Dispensing).filter(
        batch__product__is_unlicensed_special=True, dispensed_on__gte=wanted.start, dispensed_on__lte=wanted.end
    )
    if wanted.site is not None:
        supplies = supplies.filter(patient__site=wanted.site)
    return supplies.select_related("patient__site", "batch__product", "cycle", "prescription").order_by(
        "dispensed_on", "patient__study_id", "pk"
    )


def _suspected_reactions(supplies: list[Dispensing]) -> dict[int, list[AdverseEvent]]:
    """The suspected reactions of each supply's cycle: two queries for any number of supplies."""
    patient_ids = {d.patient_id for d in supplies}
    cycles: dict[int, list[TreatmentCycle]] = defaultdict(list)
    for each in TreatmentCycle.objects.filter(patient_id__in=patient_ids).only("pk", "patient_id", "start_date"):
        cycles[each.patient_id].append(each)
    by_cycle: dict[int, list[AdverseEvent]] = defaultdict(list)
    events = (
        AdverseEvent.objects.filter(patient_id__in=patient_ids)
        .exclude(relatedness=Relatedness.NOT_RELATED)
        .order_by("onset_date", "pk")
    )
    for ae in events:
        cycle = cycle_at(cycles[ae.patient_id], ae.onset_date)
        if cycle is not None:
            by_cycle[cycle.pk].append(ae)
    return by_cycle


def _rows(user: User, supplies: list[Dispensing], *, channel: str, path: str) -> list[SpecialsSupply]:
    identities = identities_for_display(user, [d.patient for d in supplies], channel=channel, path=path)
    receipts = dict(
        StockMovement.objects.filter(batch_id__in={d.batch_id for d in supplies}, kind=MovementKind.RECEIPT)
        .order_by("batch_id", "-pk")
        .values_list("batch_id", "reference")
    )
    reactions = _suspected_reactions(supplies)
    return [
        SpecialsSupply(d, identities.get(d.patient_id), receipts.get(d.batch_id, ""), reactions.get(d.cycle_id, []))
        for d in supplies
    ]


@dataclass(frozen=True)
class SpecialsRegisterPage:
    page: Page
    rows: list[SpecialsSupply]


def specials_register(
    user: User, wanted: SpecialsFilter, *, page: str | int | None = 1, path: str = ""
) -> SpecialsRegisterPage:
    """One page of the register; the names shown are logged as identity reads."""
    found = Paginator(specials_supplies(user, wanted), SPECIALS_PAGE_SIZE).get_page(page)
    return SpecialsRegisterPage(found, _rows(user, list(found.object_list), channel="specials register", path=path))


def specials_register_chunks(user: User, wanted: SpecialsFilter, *, path: str = "") -> Iterator[list[SpecialsSupply]]:
    """Every supply of the period, a chunk at a time (an inspection export); names logged."""
    chunk: list[Dispensing] = []
    for supply in specials_supplies(user, wanted).iterator(chunk_size=SPECIALS_CHUNK):
        chunk.append(supply)
        if len(chunk) == SPECIALS_CHUNK:
            yield _rows(user, chunk, channel="specials register export", path=path)
            chunk = []
    if chunk:
        yield _rows(user, chunk, channel="specials register export", path=path)


#: Columns of the inspection export, in order.
SPECIALS_CSV_HEADER = (
    "dispensed_on",
    "study_id",
    "patient_name",
    "site",
    "product",
    "batch_number",
    "batch_expiry",
    "quantity",
    "quantity_unit",
    "days_supplied",
    "obtained_from",
    "manufacturer_licence",
    "obtained_on",
    "delivery_note",
    "prescriber",
    "prescribed_on",
    "dispensed_by",
    "suspected_adverse_reactions",
)


def specials_csv_row(row: SpecialsSupply) -> tuple[object, ...]:
    d = row.dispensing
    prescription = d.prescription
    return (
        d.dispensed_on.isoformat(),
        d.patient.study_id,
        row.name,
        d.patient.site.code,
        d.batch.product.name,
        d.batch.batch_number,
        d.batch.expiry_date.isoformat(),
        d.quantity,
        d.quantity_unit,
        d.days_supplied if d.days_supplied is not None else "",
        d.batch.supplier,
        d.batch.manufacturer_licence,
        d.batch.received_on.isoformat(),
        row.delivery_note,
        d.prescriber,
        prescription.prescribed_on.isoformat() if prescription is not None else "",
        d.dispensed_by,
        row.reactions,
    )
