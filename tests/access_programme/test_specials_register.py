"""The specials register (issue 16, item 5): every supply of an unlicensed special at the user's
sites with the records regulation 170 and MHRA GN14 ask for, filtered by period and site."""

from __future__ import annotations

import datetime as dt

import pytest

from access_programme import selectors
from access_programme.models import Batch, Dispensing, Product
from registry.models import AdverseEvent, IdentityAccess, Patient, Role, Site, User
from tests.factories import BatchFactory, IdentityFactory, SiteFactory, UserFactory, days_ago, supplied, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def london() -> Site:
    return SiteFactory.create(code="GB-LON")


@pytest.fixture
def sheffield() -> Site:
    return SiteFactory.create(code="GB-SHF")


@pytest.fixture
def pharmacist(london) -> User:
    return UserFactory.create(username="chloe", role=Role.PHARMACIST, sites=[london])


def supply(patient: Patient, batch: Batch, on: dt.date, cycle_number: int = 1, **fields: object) -> Dispensing:
    """A supply as the dispensing service leaves it (the register reads, it does not dispense)."""
    return supplied(
        patient,
        batch,
        cycle_number,
        on=on,
        **{"prescriber": "Dr Rees GMC 1234567", "dispensed_by": "Chloe Patel", **fields},
    )


def adverse_event(patient: Patient, onset: dt.date, term: str, relatedness: str = "possible") -> AdverseEvent:
    return AdverseEvent.objects.create(
        patient=patient, term=term, onset_date=onset, ctcae_grade=1, relatedness=relatedness
    )


def wanted(user: User, **params: str) -> selectors.SpecialsFilter:
    found, errors = selectors.specials_filter(user, params, days_ago(0))
    assert errors == []
    return found


def test_the_register_lists_only_specials_supplied_at_the_users_sites(pharmacist, london, sheffield):
    mine = supply(treated_patient(london), BatchFactory.create(batch_number="SPX-LON"), days_ago(30))
    supply(treated_patient(sheffield), BatchFactory.create(batch_number="SPX-SHF"), days_ago(30))
    licensed = BatchFactory.create(batch_number="ILT-1", product=Product.objects.get(code="ilt_101"))
    supply(treated_patient(london, route="managed_access"), licensed, days_ago(30))
    register = selectors.specials_register(pharmacist, wanted(pharmacist))
    assert [row.dispensing for row in register.rows] == [mine]


def test_the_register_is_filtered_by_period_and_site(london, sheffield):
    manager = UserFactory.create(username="erin", role=Role.DATA_MANAGER)
    batch = BatchFactory.create()
    old = supply(treated_patient(london), batch, days_ago(200))
    recent_london = supply(treated_patient(london), batch, days_ago(20))
    recent_sheffield = supply(treated_patient(sheffield), batch, days_ago(10))
    period = {"from": days_ago(60).isoformat(), "to": days_ago(0).isoformat()}
    found = selectors.specials_supplies(manager, wanted(manager, **period))
    assert list(found) == [recent_london, recent_sheffield]
    assert list(selectors.specials_supplies(manager, wanted(manager, site="GB-SHF"))) == [recent_sheffield]
    assert old in selectors.specials_supplies(manager, wanted(manager))  # the last 5 years by default


def test_a_period_that_ends_before_it_starts_or_a_site_not_ones_own_is_refused(pharmacist, sheffield):
    today = days_ago(0)
    _, errors = selectors.specials_filter(pharmacist, {"from": "2026-05-01", "to": "2026-04-01"}, today)
    assert errors == ["The period ends before it starts."]
    _, errors = selectors.specials_filter(pharmacist, {"site": "GB-SHF"}, today)
    assert errors == ["No such site among yours."]
    _, errors = selectors.specials_filter(pharmacist, {"from": "1 May"}, today)
    assert errors == ["Give the dates as YYYY-MM-DD."]


def test_a_row_holds_the_source_and_date_obtained_the_prescriber_and_the_delivery_note(pharmacist, london):
    batch = BatchFactory.create(supplier="Synthetic Specials Ltd", manufacturer_licence="MS 12345")
    made = supply(treated_patient(london), batch, days_ago(30))
    (row,) = selectors.specials_register(pharmacist, wanted(pharmacist)).rows
    values = dict(zip(selectors.SPECIALS_CSV_HEADER, selectors.specials_csv_row(row), strict=True))
    assert values["obtained_from"] == "Synthetic Specials Ltd" and values["manufacturer_licence"] == "MS 12345"
    assert values["obtained_on"] == batch.received_on.isoformat()
    assert values["dispensed_on"] == made.dispensed_on.isoformat() and values["quantity"] == 5
    assert values["batch_number"] == batch.batch_number and values["prescriber"] == "Dr Rees GMC 1234567"


def test_suspected_reactions_are_the_patients_events_in_the_cycle_of_the_supply(pharmacist, london):
    patient = treated_patient(london)
    first = supply(patient, BatchFactory.create(batch_number="SPX-A"), days_ago(60), cycle_number=1)
    second = supply(patient, BatchFactory.create(batch_number="SPX-B"), days_ago(32), cycle_number=2)
    adverse_event(patient, days_ago(58), "Injection site reaction")
    adverse_event(patient, days_ago(30), "Fever")
    adverse_event(patient, days_ago(29), "Fall", relatedness="not_related")  # no suspected reaction
    adverse_event(patient, days_ago(90), "Cramp")  # before any supply
    rows = {row.dispensing: row for row in selectors.specials_register(pharmacist, wanted(pharmacist)).rows}
    assert [ae.term for ae in rows[first].adverse_events] == ["Injection site reaction"]
    assert [ae.term for ae in rows[second].adverse_events] == ["Fever"]
    assert rows[second].reactions.startswith("Fever (onset")


def test_names_are_shown_to_a_pharmacist_and_each_read_is_logged(pharmacist, london):
    patient = treated_patient(london)
    IdentityFactory(patient=patient, given_name="Ada", family_name="Lovelace")
    supply(patient, BatchFactory.create(), days_ago(30))
    (row,) = selectors.specials_register(pharmacist, wanted(pharmacist), path="/pharmacy/specials/").rows
    assert row.name == "Ada Lovelace"
    log = IdentityAccess.objects.get()
    assert (log.user, log.patient, log.channel) == (pharmacist, patient, "specials register")


def test_a_page_of_the_register_costs_the_same_queries_for_one_supply_or_many(
    pharmacist, london, django_assert_max_num_queries
):
    batch = BatchFactory.create()
    for number in range(12):
        patient = treated_patient(london)
        supply(patient, batch, days_ago(40 - number))
        adverse_event(patient, days_ago(39 - number), "Fever")
    with django_assert_max_num_queries(10):
        rows = selectors.specials_register(pharmacist, wanted(pharmacist)).rows
        assert len(rows) == 12 and all(row.adverse_events for row in rows)
