"""The supply rules of issue 16, item 1, in the admin: a supply added or corrected there goes through
the same service as the dispensing pages (`dispensing_record`, `dispensing_update`), so it is
refused with the same message, linked to its cycle's prescription, taken from stock and audited
with the user who saved it; a correction needs a reason (docs/pharmacy.md). The web, API and
import paths are in test_supply_every_path.py.

The admin acts on a patient of the London site whose cycle 1 started 23 days ago (cycle 2 is due
in 5 days).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from access_programme import services
from access_programme.models import Batch, Dispensing, TreatmentCycle
from registry.models import Patient, Role, Site, User
from tests.conftest import login_with_second_factor
from tests.factories import BatchFactory, CycleFactory, UserFactory, days_ago
from tests.paths.supply import NO_PRESCRIPTION, TODAY, WINDOW, prescribe

pytestmark = pytest.mark.django_db

ADMIN_DISPENSING = "/admin/access_programme/dispensing/"


@pytest.fixture
def admin_user(sites: list[Site]) -> User:
    user = UserFactory.create(username="erin", role=Role.DATA_MANAGER, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="access_programme"))
    return user


@pytest.fixture
def admin_site(admin_user: User) -> Client:
    client = Client()
    login_with_second_factor(client, admin_user)
    return client


def admin_form(supply: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The admin's form for a supply: its date-times in two boxes, nothing for an empty choice."""
    values = {**supply, **changes}
    data = {name: ("" if value is None else value) for name, value in values.items() if not name.endswith("_at")}
    for name in ("reconstituted_at", "beyond_use_at", "accuracy_checked_at"):
        at = values.get(name)
        data[f"{name}_0"], data[f"{name}_1"] = (at.date().isoformat(), f"{at:%H:%M}") if at else ("", "")
    return data


def admin_supply(cycle: TreatmentCycle, batch: Batch, on: dt.date = TODAY) -> dict[str, Any]:
    reconstituted = dt.datetime.combine(on, dt.time(9))
    return {
        "cycle": cycle.pk,
        "batch": batch.pk,
        "dispensed_on": on.isoformat(),
        "quantity": 5,
        "quantity_unit": "syringe",
        "dose_miu_per_unit": "2.000",
        "prescriber": "Dr A. Consultant (GMC 1234567)",
        "dispensed_by": "Erin Data",
        "reconstituted_at": reconstituted,
        "beyond_use_at": reconstituted + dt.timedelta(days=13),
        "accuracy_checked_at": None,
        "cold_chain_confirmed": "on",
        "cold_chain_temperature_c": None,
        "prescription": None,
        "days_supplied": 5,
        "accuracy_checked_by": None,
        "change_reason": "",
    }


def dispensing_fields(on: dt.date = TODAY) -> dict[str, Any]:
    """A supply of 5 as the dispensing page records it (for the service called directly)."""
    reconstituted = timezone.make_aware(dt.datetime.combine(on, dt.time(9)))
    return {
        "dispensed_on": on,
        "quantity": 5,
        "quantity_unit": "syringe",
        "dose_miu_per_unit": Decimal("2.000"),
        "prescriber": "Dr A. Consultant (GMC 1234567)",
        "cold_chain_confirmed": True,
        "days_supplied": 5,
        "reconstituted_at": reconstituted,
        "beyond_use_at": reconstituted + dt.timedelta(days=13),
    }


def admin_errors(response: Any) -> str:
    assert response.status_code == 200, response
    form = response.context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@pytest.fixture
def cycle_2(patient: Patient) -> TreatmentCycle:
    cycle: Any = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-5))
    return cycle


def test_admin_refuses_a_supply_without_a_prescription_with_the_same_message(admin_site, cycle_2):
    batch: Any = BatchFactory(max_hours_after_reconstitution=336)
    response = admin_site.post(f"{ADMIN_DISPENSING}add/", admin_form(admin_supply(cycle_2, batch)))
    assert admin_errors(response) == NO_PRESCRIPTION.format(n=2)
    assert not Dispensing.objects.exists()
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == 50


def test_admin_refuses_a_supply_earlier_than_the_window_with_the_same_message(admin_site, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-7))
    batch: Any = BatchFactory(max_hours_after_reconstitution=336)
    response = admin_site.post(f"{ADMIN_DISPENSING}add/", admin_form(admin_supply(cycle, batch, on=days_ago(1))))
    assert admin_errors(response) == WINDOW
    assert not Dispensing.objects.exists()


def test_an_admin_supply_is_the_services_linked_to_its_prescription_taken_from_stock_and_audited(
    admin_site, admin_user, patient, pharmacist, cycle_2
):
    rx = prescribe(patient, 2, checked_by=pharmacist)
    batch: Any = BatchFactory(max_hours_after_reconstitution=336)
    response = admin_site.post(f"{ADMIN_DISPENSING}add/", admin_form(admin_supply(cycle_2, batch)))
    assert response.status_code == 302, admin_errors(response)
    supply = Dispensing.objects.get()
    # the service's own work: the cycle's prescription found, the user who saved it, the stock taken
    assert (supply.patient, supply.prescription, supply.dispensed_by_user) == (patient, rx, admin_user)
    created = supply.history.get()
    assert (created.history_type, created.history_user) == ("+", admin_user)
    batch.refresh_from_db()
    assert (batch.quantity_remaining, batch.recipient_count) == (45, 1)
    stock = batch.history.first()
    assert (stock.history_user, stock.history_change_reason) == (
        admin_user,
        f"Stock: 5 supplied to {patient} (cycle 2)",
    )


def test_an_admin_correction_needs_a_reason_and_is_audited_with_it_and_moves_stock(
    admin_site, admin_user, patient, pharmacist, cycle_2
):
    prescribe(patient, 2, checked_by=pharmacist)
    batch: Any = BatchFactory(max_hours_after_reconstitution=336)
    supply = services.dispensing_record(actor=pharmacist, cycle=cycle_2, batch=batch, **dispensing_fields())
    url = f"{ADMIN_DISPENSING}{supply.pk}/change/"
    form = admin_form(admin_supply(cycle_2, batch), quantity=3, days_supplied=3, prescription=supply.prescription_id)

    response = admin_site.post(url, form)
    assert admin_errors(response) == "A reason for change is required to edit clinical data."
    assert Dispensing.objects.get().quantity == 5

    response = admin_site.post(url, {**form, "change_reason": "Two syringes not handed over"})
    assert response.status_code == 302, admin_errors(response)
    latest = supply.history.first()
    assert (latest.quantity, latest.history_user, latest.history_change_reason) == (
        3,
        admin_user,
        "Two syringes not handed over",
    )
    batch.refresh_from_db()
    assert batch.quantity_remaining == 47  # the 2 not supplied went back to the batch
    assert batch.history.first().history_change_reason == (
        f"Stock: dispensing to {patient} corrected (Two syringes not handed over)"
    )


def test_admin_refuses_a_correction_that_breaks_a_rule_with_the_same_message(admin_site, patient, pharmacist):
    prescribe(patient, 2, checked_by=pharmacist)
    cycle = CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(-7))
    batch: Any = BatchFactory(max_hours_after_reconstitution=336)
    supply = services.dispensing_record(actor=pharmacist, cycle=cycle, batch=batch, **dispensing_fields())
    form = admin_form(admin_supply(cycle, batch, on=days_ago(1)), change_reason="Date typo")
    response = admin_site.post(f"{ADMIN_DISPENSING}{supply.pk}/change/", form)
    assert admin_errors(response) == WINDOW
    assert Dispensing.objects.get().dispensed_on == TODAY and supply.history.count() == 1
