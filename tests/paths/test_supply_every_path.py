"""The supply rules of issue 16, item 1, on every path: the dispensing pages, the API, the admin
and an import of a site's past supplies apply each rule once (`access_programme.models.supply_rules`,
`Dispensing.clean`) and refuse with the same message; an imported past supply without a checked
prescription is kept and raises a data query with that message (docs/pharmacy.md). The admin's
tests are in test_supply_admin_path.py; the messages and the shared fixtures in supply.py and
conftest.py.

Web, API and admin act on a patient of the London site whose cycle 1 started 23 days ago (cycle 2 is due
in 5 days); the import acts on the clean fixture cohort (GB-LON-0001: cycles on 20 Jan, 17 Feb
and 17 Mar 2025).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from access_programme.models import Dispensing, TreatmentCycle
from registry.models import DataQuery, Patient, Role, Site, User
from tests.conftest import login_with_second_factor
from tests.factories import BatchFactory, CycleFactory, UserFactory, days_ago
from tests.interchange.conftest import CLEAN, read_cohort, run_import, write_cohort
from tests.paths.supply import NO_PRESCRIPTION, NO_PRESCRIPTIONS, TODAY, UNCHECKED, WINDOW, prescribe

pytestmark = pytest.mark.django_db


def spacing(n: int, days: int, earliest: dt.date) -> str:
    return (
        f"Cycle {n} starts {days} days after cycle {n - 1}; cycles are at least 28 days apart "
        f"(earliest {earliest:%d %b %Y})."
    )


@pytest.fixture
def web(pharmacist: User) -> Client:
    client = Client()
    login_with_second_factor(client, pharmacist)
    return client


@pytest.fixture
def api(pharmacist: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(pharmacist)
    return client


def reconstitution(on: dt.date) -> dict[str, str]:
    use_by = on + dt.timedelta(days=13)
    return {"reconstituted_at": f"{on.isoformat()}T09:00", "beyond_use_at": f"{use_by.isoformat()}T09:00"}


def web_dispense(client: Client, patient: Patient, **overrides: Any) -> Any:
    batch: Any = BatchFactory(max_hours_after_reconstitution=336)
    on = overrides.pop("dispensed_on", TODAY)
    data = {
        "cycle_start_date": days_ago(-5).isoformat(),
        "dispensed_on": on.isoformat(),
        "batch": batch.pk,
        "quantity": 5,
        "days_supplied": 5,
        "dose_miu_per_unit": "2.000",
        "prescriber": "Dr A. Consultant (GMC 1234567)",
        "cold_chain_confirmed": "on",
        **reconstitution(on),
        **overrides,
    }
    return client.post(reverse("pharmacy:dispense", args=[patient.study_id]), data)


def web_errors(response: Any) -> str:
    assert response.status_code == 200, response
    form = response.context["form"]
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def api_dispense(client: APIClient, cycle: TreatmentCycle, **overrides: Any) -> Any:
    batch: Any = BatchFactory(max_hours_after_reconstitution=336)
    on = overrides.pop("dispensed_on", TODAY)
    at = reconstitution(on)
    body = {
        "cycle": cycle.pk,
        "batch": batch.pk,
        "dispensed_on": on.isoformat(),
        "quantity": 5,
        "days_supplied": 5,
        "quantity_unit": "syringe",
        "dose_miu_per_unit": "2.000",
        "prescriber": "Dr A. Consultant (GMC 1234567)",
        "cold_chain_confirmed": True,
        "reconstituted_at": at["reconstituted_at"] + ":00Z",
        "beyond_use_at": at["beyond_use_at"] + ":00Z",
        **overrides,
    }
    return client.post("/api/v1/dispensings/", body, format="json")


def api_says(response: Any, field: str) -> str:
    assert response.status_code == 400, response.content
    return " ".join(response.json()[field])


def import_with(tmp_path: Any, manager: User, *, cycles: list[dict[str, str]], dispensings: list[dict[str, str]]):
    files = read_cohort()
    files["cycles.csv"].extend(cycles)
    files["dispensing.csv"].extend(dispensings)
    return run_import(write_cohort(tmp_path / "again", files), user=manager)


def cycle_row(number: int, start: str) -> dict[str, str]:
    return {
        "patient_id": "GB-LON-0001",
        "cycle_number": str(number),
        "start_date": start,
        "planned_dose_miu": "2",
        "days_administered": "5",
        "total_dose_miu": "10",
        "interrupted": "no",
        "interruption_reason": "",
    }


def dispensing_row(number: int, on: str) -> dict[str, str]:
    row = dict(read_cohort()["dispensing.csv"][0])
    return {**row, "cycle_number": str(number), "dispensed_on": on}


@pytest.fixture
def manager(sites: list[Site]) -> User:
    return UserFactory.create(username="dm", role=Role.DATA_MANAGER)


# --- a supply needs the cycle's prescription, clinically checked -----------------------------


def test_web_without_a_prescription_sends_the_pharmacist_to_the_prescription_step_saying_why(web, patient):
    response = web_dispense(web, patient)
    assert response.url == reverse("pharmacy:prescribe", args=[patient.study_id])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [NO_PRESCRIPTION.format(n=2)]
    assert not Dispensing.objects.exists() and not TreatmentCycle.objects.filter(cycle_number=2).exists()


def test_api_refuses_a_supply_without_a_prescription_with_the_same_message(api, patient):
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-5))
    assert api_says(api_dispense(api, cycle), "prescription") == NO_PRESCRIPTION.format(n=2)
    assert not Dispensing.objects.exists()


def test_import_keeps_past_supplies_without_a_prescription_and_queries_them_once_per_patient_naming_the_cycles(
    manager,
):
    result = run_import(CLEAN, user=manager)
    assert not result.errors
    assert Dispensing.objects.filter(patient__study_id="GB-LON-0001").count() == 3
    (query,) = DataQuery.objects.filter(patient__study_id="GB-LON-0001", rule="dispensing_without_prescription")
    assert (query.field_name, query.message, query.severity) == ("prescription", NO_PRESCRIPTIONS, "minor")


def test_import_attaches_the_patients_query_to_the_earliest_supply_without_a_prescription(manager):
    run_import(CLEAN, user=manager)
    earliest = Dispensing.objects.get(patient__study_id="GB-LON-0001", cycle__cycle_number=1)
    query = DataQuery.objects.get(patient__study_id="GB-LON-0001", rule="dispensing_without_prescription")
    assert query.record == earliest


def test_import_keeps_one_query_per_patient_when_their_supplies_fall_into_two_chunks(manager):
    run_import(CLEAN, user=manager, chunk_size=2)  # GB-LON-0001's cycles 1-2, then cycle 3
    (query,) = DataQuery.objects.filter(patient__study_id="GB-LON-0001", rule="dispensing_without_prescription")
    assert query.message == NO_PRESCRIPTIONS
    assert query.record == Dispensing.objects.get(patient__study_id="GB-LON-0001", cycle__cycle_number=1)


def test_a_later_import_of_further_supplies_raises_its_own_query_naming_only_its_cycles(tmp_path, manager):
    run_import(CLEAN, user=manager)
    result = import_with(
        tmp_path, manager, cycles=[cycle_row(4, "2025-04-14")], dispensings=[dispensing_row(4, "2025-04-14")]
    )
    assert not result.errors
    queries = DataQuery.objects.filter(patient__study_id="GB-LON-0001", rule="dispensing_without_prescription")
    assert {q.message for q in queries} == {NO_PRESCRIPTIONS, NO_PRESCRIPTION.format(n=4)}
    assert queries.get(message=NO_PRESCRIPTION.format(n=4)).record == Dispensing.objects.get(
        patient__study_id="GB-LON-0001", cycle__cycle_number=4
    )


def test_reimporting_the_same_supplies_raises_no_further_query(manager):
    run_import(CLEAN, user=manager)
    raised = set(DataQuery.objects.filter(rule="dispensing_without_prescription").values_list("pk", "message"))
    run_import(CLEAN, user=manager)
    assert set(DataQuery.objects.filter(rule="dispensing_without_prescription").values_list("pk", "message")) == raised


def test_web_with_an_unchecked_prescription_sends_the_pharmacist_to_the_check_saying_why(web, patient):
    prescribe(patient, 2, checked_by=None)
    response = web_dispense(web, patient)
    assert response.url == reverse("pharmacy:prescribe", args=[patient.study_id])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [UNCHECKED]
    assert not Dispensing.objects.exists()


def test_api_refuses_a_supply_against_an_unchecked_prescription_with_the_same_message(api, patient):
    prescribe(patient, 2, checked_by=None)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-5))
    assert api_says(api_dispense(api, cycle), "prescription") == UNCHECKED


def test_import_queries_a_past_supply_against_an_unchecked_prescription_naming_its_cycle(tmp_path, manager):
    run_import(CLEAN, user=manager)
    prescribe(Patient.objects.get(study_id="GB-LON-0001"), 4, checked_by=None, on=dt.date(2025, 4, 10))
    result = import_with(
        tmp_path, manager, cycles=[cycle_row(4, "2025-04-14")], dispensings=[dispensing_row(4, "2025-04-14")]
    )
    assert not result.errors
    supply = Dispensing.objects.get(patient__study_id="GB-LON-0001", cycle__cycle_number=4)
    assert supply.prescription is not None  # linked to its cycle's prescription
    query = DataQuery.objects.get(record_id=supply.pk, rule="dispensing_without_prescription")
    assert query.message == "Cycle 4: a pharmacist must clinically check the prescription before it is dispensed."


def test_api_links_the_supply_to_its_cycles_checked_prescription(api, patient, pharmacist):
    rx = prescribe(patient, 2, checked_by=pharmacist)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-5))
    response = api_dispense(api, cycle)
    assert response.status_code == 201, response.content
    assert response.json()["prescription"] == rx.pk


# --- the dispensing window: no earlier than 7 days before the cycle starts -------------------


def test_web_refuses_a_supply_earlier_than_the_window(web, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    response = web_dispense(web, patient, cycle_start_date=days_ago(-7).isoformat(), dispensed_on=days_ago(1))
    assert web_errors(response) == WINDOW
    assert not Dispensing.objects.exists()


def test_api_refuses_a_supply_earlier_than_the_window_with_the_same_message(api, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-7))
    assert api_says(api_dispense(api, cycle, dispensed_on=days_ago(1)), "dispensed_on") == WINDOW


def test_import_rejects_a_supply_earlier_than_the_window_with_the_same_message(tmp_path, manager):
    run_import(CLEAN, user=manager)
    result = import_with(
        tmp_path, manager, cycles=[cycle_row(4, "2025-04-14")], dispensings=[dispensing_row(4, "2025-04-06")]
    )
    (error,) = [e for e in result.errors if e["file"] == "dispensing.csv"]
    assert error["message"] == f"dispensed_on: {WINDOW}"


# --- the 28-day rule is the cycle's administration dates, never the date of supply -----------


def test_web_refuses_a_cycle_starting_less_than_28_days_after_the_last(web, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    response = web_dispense(web, patient, cycle_start_date=TODAY.isoformat())
    assert web_errors(response) == spacing(2, 23, days_ago(-5))


def test_api_refuses_a_cycle_starting_less_than_28_days_after_the_last_with_the_same_message(api, patient):
    body = {"patient": patient.study_id, "cycle_number": 2, "start_date": TODAY.isoformat(), "days_administered": 5}
    response = api.post("/api/v1/cycles/", body, format="json")
    assert api_says(response, "start_date") == spacing(2, 23, days_ago(-5))


def test_import_rejects_a_cycle_starting_less_than_28_days_after_the_last_with_the_same_message(tmp_path, manager):
    run_import(CLEAN, user=manager)
    result = import_with(tmp_path, manager, cycles=[cycle_row(4, "2025-04-07")], dispensings=[])
    (error,) = [e for e in result.errors if e["file"] == "cycles.csv"]
    assert error["message"] == f"start_date: {spacing(4, 21, dt.date(2025, 4, 14))}"


def test_web_supplies_today_a_cycle_due_in_5_days(web, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    assert web_dispense(web, patient).status_code == 302
    supply = Dispensing.objects.get()
    assert (supply.cycle.start_date, supply.dispensed_on, supply.prescription.cycle_number) == (days_ago(-5), TODAY, 2)
    assert supply.batch.recipient_count == 1  # counted by the service, as the stock is taken


def test_api_supplies_today_a_cycle_due_in_5_days(api, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-5))
    assert api_dispense(api, cycle).status_code == 201
    assert Dispensing.objects.get().batch.recipient_count == 1


def test_import_keeps_a_supply_made_before_its_cycle_within_the_window(tmp_path, manager):
    # Dispensed 24 days after cycle 3 started: the 28 days are between the cycles' starts.
    run_import(CLEAN, user=manager)
    result = import_with(
        tmp_path, manager, cycles=[cycle_row(4, "2025-04-14")], dispensings=[dispensing_row(4, "2025-04-10")]
    )
    assert not result.errors
    assert Dispensing.objects.get(cycle__cycle_number=4, patient__study_id="GB-LON-0001").dispensed_on == dt.date(
        2025, 4, 10
    )


# --- part supplies: the dosing days supplied, never more than the cycle's 5 ------------------


def test_web_refuses_more_days_than_the_cycle_has_left(web, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    assert web_dispense(web, patient, quantity=3, days_supplied=3).status_code == 302
    response = web_dispense(web, patient, quantity=5, days_supplied=5)
    assert web_errors(response) == "Cycle 2 has 5 dosing days and 3 are already supplied."


def test_api_refuses_more_days_than_the_cycle_has_left_with_the_same_message(api, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-5))
    assert api_dispense(api, cycle, quantity=3, days_supplied=3).status_code == 201
    response = api_dispense(api, cycle, days_supplied=5)
    assert api_says(response, "days_supplied") == "Cycle 2 has 5 dosing days and 3 are already supplied."


def test_api_refuses_a_supply_that_does_not_say_the_days_it_covers(api, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-5))
    response = api_dispense(api, cycle, days_supplied=None)
    assert api_says(response, "days_supplied") == "Record the dosing days this supply covers (1 to 5)."
