"""A batch's page reads its recipients' adverse events from the batch's first supply on, and
counts its supplies and patients at the user's sites in one statement (docs/benchmarks.md, issue
18): the same events and figures as before, read from indexes that PostgreSQL can use."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access_programme import selectors
from tests.factories import BatchFactory, treated_patient
from tests.plans import planner_paths_off
from tests.web.test_pharmacy_pages import adverse_event, supplied

pytestmark = pytest.mark.django_db


def test_a_recipients_events_are_listed_from_their_own_supply_though_the_batch_was_first_supplied_earlier(
    pharmacist, london
):
    batch = BatchFactory()
    early, late = treated_patient(site=london), treated_patient(site=london)
    first_supply = supplied(early, batch).dispensed_on
    own_supply = supplied(late, batch, cycle_number=2).dispensed_on  # 28 days after the batch's first
    adverse_event(late, "Nausea between the two supplies", first_supply + dt.timedelta(days=1))
    adverse_event(late, "Fatigue after its own", own_supply)
    adverse_event(early, "Headache", first_supply)
    listed = selectors.batch_recipient_adverse_events(pharmacist, batch)
    assert [(e.patient, e.term) for e in listed.events] == [(early, "Headache"), (late, "Fatigue after its own")]
    assert listed.more is False


def test_a_batch_never_supplied_lists_no_adverse_events(pharmacist, london):
    supplied_batch, unused = BatchFactory(), BatchFactory()
    patient = treated_patient(site=london)
    adverse_event(patient, "Fatigue", supplied(patient, supplied_batch).dispensed_on)
    assert selectors.batch_recipient_adverse_events(pharmacist, unused).events == []


def test_one_patient_supplied_twice_counts_as_one_patient_and_two_supplies(pharmacist, london, sheffield):
    batch = BatchFactory()
    twice, elsewhere = treated_patient(site=london), treated_patient(site=sheffield)
    supplied(twice, batch)
    supplied(twice, batch, cycle_number=2)
    supplied(elsewhere, batch)
    recipients = selectors.batch_recipients(pharmacist, batch)
    assert (recipients.page.paginator.count, recipients.patient_count, recipients.other_sites_patient_count) == (
        2,
        1,
        1,
    )
    assert [d.patient for d in recipients.page] == [twice, twice]


def _plan_of_the_query(run, marker: str, *also_off: str) -> str:
    """The plan of the one statement `run()` sends that contains `marker`, with sequential and
    bitmap scans (and `also_off`) switched off: it names an index only if that index answers the
    statement as written."""
    with CaptureQueriesContext(connection) as queries:
        run()
    (sql,) = [q["sql"] for q in queries.captured_queries if marker in q["sql"]]
    with planner_paths_off("enable_seqscan", "enable_bitmapscan", *also_off), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_a_batchs_first_supply_is_read_from_the_supplies_index(pharmacist, london):
    batch = BatchFactory()
    patient = treated_patient(site=london)
    adverse_event(patient, "Fatigue", supplied(patient, batch).dispensed_on)
    plan = _plan_of_the_query(lambda: selectors.batch_recipient_adverse_events(pharmacist, batch), "MIN(")
    assert "dispensing_batch_date" in plan


@pytest.mark.postgres
def test_the_recipients_events_are_walked_in_onset_order_from_the_first_supply(pharmacist, london):
    batch = BatchFactory()
    patient = treated_patient(site=london)
    adverse_event(patient, "Fatigue", supplied(patient, batch).dispensed_on)
    plan = _plan_of_the_query(
        lambda: selectors.batch_recipient_adverse_events(pharmacist, batch),
        '"registry_adverseevent"."term"',
        "enable_sort",
    )
    assert "adverse_event_onset" in plan and "Index Cond: (onset_date >=" in plan
