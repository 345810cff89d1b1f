"""Each batch keeps how many distinct patients received it (`Batch.recipient_count`), as it keeps
its stock: the dispensing services and the import count a patient once per batch, a correction
that moves a supply to another batch moves the patient between the counts, and the migration
fills it from the dispensings already recorded (issue 18, item 3)."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from access_programme.models import Batch, Dispensing
from access_programme.services import dispensing_update
from tests.access_programme.test_cycles_and_dispensing import dispense
from tests.factories import BatchFactory, CycleFactory, treated_patient

pytestmark = pytest.mark.django_db


def recipients(*batches: Batch) -> tuple[int, ...]:
    return tuple(Batch.objects.get(pk=b.pk).recipient_count for b in batches)


def second_cycle(patient):
    start = patient.enrolment.first_dose_date + dt.timedelta(days=28)
    return CycleFactory(patient=patient, cycle_number=2, start_date=start)


def test_a_first_supply_counts_the_patient_and_a_second_of_the_same_batch_does_not(patient, pharmacist):
    batch = BatchFactory()
    dispense(pharmacist, CycleFactory(patient=patient), batch)
    assert recipients(batch) == (1,)
    dispense(pharmacist, second_cycle(patient), batch)
    assert recipients(batch) == (1,)
    assert Batch.objects.get(pk=batch.pk).history.first().recipient_count == 1  # saved with the stock


def test_each_patient_supplied_from_a_batch_is_counted_once(patient, pharmacist):
    batch = BatchFactory()
    other = treated_patient(site=pharmacist.sites.get())
    dispense(pharmacist, CycleFactory(patient=patient), batch)
    dispense(pharmacist, CycleFactory(patient=other), batch)
    assert recipients(batch) == (2,)


def test_a_correction_to_another_batch_moves_the_patient_between_the_counts(patient, pharmacist):
    first, second = BatchFactory(), BatchFactory()
    supply = dispense(pharmacist, CycleFactory(patient=patient), first)
    dispensing_update(actor=pharmacist, record=supply, reason="Wrong batch keyed", expected_version=None, batch=second)
    assert recipients(first, second) == (0, 1)


def test_a_patient_still_holding_a_supply_of_the_old_batch_stays_counted_there(patient, pharmacist):
    first, second = BatchFactory(), BatchFactory()
    dispense(pharmacist, CycleFactory(patient=patient), first)
    moved = dispense(pharmacist, second_cycle(patient), first)
    dispensing_update(actor=pharmacist, record=moved, reason="Wrong batch keyed", expected_version=None, batch=second)
    assert recipients(first, second) == (1, 1)
    back = Dispensing.objects.get(pk=moved.pk)
    dispensing_update(actor=pharmacist, record=back, reason="It was the first", expected_version=None, batch=first)
    assert recipients(first, second) == (1, 0)


def test_a_correction_of_the_quantity_alone_leaves_the_count(patient, pharmacist):
    batch = BatchFactory()
    supply = dispense(pharmacist, CycleFactory(patient=patient), batch)
    dispensing_update(actor=pharmacist, record=supply, reason="Four handed over", expected_version=None, quantity=4)
    assert recipients(batch) == (1,)


def test_the_migration_fills_the_count_from_the_dispensings_recorded(patient, pharmacist):
    batch, unused = BatchFactory(), BatchFactory()
    dispense(pharmacist, CycleFactory(patient=patient), batch)
    dispense(pharmacist, second_cycle(patient), batch)
    dispense(pharmacist, CycleFactory(patient=treated_patient(site=pharmacist.sites.get())), batch)
    Batch.objects.update(recipient_count=0)  # as the column came
    import_module("access_programme.migrations.0015_batch_recipient_count").refill(apps, None)
    assert recipients(batch, unused) == (2, 0)


def test_the_api_shows_each_batchs_recipient_count(patient, pharmacist):
    batch = BatchFactory()
    dispense(pharmacist, CycleFactory(patient=patient), batch)
    client = APIClient()
    client.force_authenticate(pharmacist)
    body = client.get(f"/api/v1/batches/{batch.pk}/").json()
    assert (body["recipient_count"], body["quantity_remaining"]) == (1, batch.quantity_received - 5)
