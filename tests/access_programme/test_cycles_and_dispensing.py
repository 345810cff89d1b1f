"""Cycles follow the 28-day schedule; dispensing meets the specials rules and keeps stock right."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from access_programme.models import Batch, BatchStatus, Prescription, Product
from access_programme.selectors import usable_batches
from access_programme.services import batch_recall, cycle_start, dispensing_record
from registry.models import DataQuery
from tests.factories import BatchFactory, CycleFactory, days_ago, prescribed

pytestmark = [pytest.mark.requirement("PHA-01"), pytest.mark.django_db]


def reconstitution(on: dt.date, hours: int = 120) -> dict[str, object]:
    at = timezone.make_aware(dt.datetime.combine(on, dt.time(9, 0)))
    return {"reconstituted_at": at, "beyond_use_at": at + dt.timedelta(hours=hours)}


def dispense(pharmacist, cycle, batch, quantity=5, **overrides):
    if not Prescription.objects.filter(patient=cycle.patient, cycle_number=cycle.cycle_number).exists():
        prescribed(cycle)
    fields = {
        "days_supplied": 5,
        "dispensed_on": cycle.start_date,
        "quantity": quantity,
        "quantity_unit": "syringe",
        "dose_miu_per_unit": Decimal(2),
        "prescriber": "Dr Who (GMC 7654321)",
        "cold_chain_confirmed": True,
        **reconstitution(cycle.start_date),
    }
    return dispensing_record(actor=pharmacist, cycle=cycle, batch=batch, **{**fields, **overrides})


def test_cycle_one_must_start_on_the_first_dose_date(patient, pharmacist):
    with pytest.raises(ValidationError) as error:
        cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(80))
    assert "first dose" in error.value.message_dict["start_date"][0]


def test_a_cycle_starting_less_than_28_days_after_the_previous_is_refused(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    with pytest.raises(ValidationError) as error:
        cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(60))
    assert "24 days after cycle 1" in error.value.message_dict["start_date"][0]


def test_a_cycle_28_days_after_the_previous_is_accepted(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    second = cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(56))
    assert second.next_due_date == days_ago(28)


def test_missed_doses_without_an_interruption_keep_the_cycle_and_raise_a_query(patient, pharmacist):
    cycle = cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84), days_administered=3)
    query = DataQuery.objects.get(patient=patient)
    assert (query.record, query.field_name, query.rule) == (cycle, "interrupted", "cycle_missed_doses")
    assert query.message.startswith("2 dose(s) missed")
    assert query.raised_by == pharmacist


def test_a_cycle_still_in_its_dosing_days_raises_no_missed_dose_query(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(2), days_administered=3)
    assert not DataQuery.objects.exists()


def test_an_interruption_needs_its_reason(patient, pharmacist):
    with pytest.raises(ValidationError) as error:
        cycle_start(
            actor=pharmacist,
            patient=patient,
            cycle_number=1,
            start_date=days_ago(84),
            days_administered=3,
            interrupted=True,
        )
    assert "interruption_reason" in error.value.message_dict


def test_an_interrupted_cycle_with_its_reason_records_the_doses_given_and_raises_no_query(patient, pharmacist):
    cycle = cycle_start(
        actor=pharmacist,
        patient=patient,
        cycle_number=1,
        start_date=days_ago(84),
        days_administered=3,
        interrupted=True,
        interruption_reason="Injection-site reaction",
    )
    assert (cycle.doses_missed, cycle.total_dose_miu) == (2, Decimal(6))
    assert not DataQuery.objects.exists()


def test_total_dose_cannot_exceed_the_days_given(patient, pharmacist):
    with pytest.raises(ValidationError) as error:
        cycle_start(
            actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84), total_dose_miu=Decimal(12)
        )
    assert "total_dose_miu" in error.value.message_dict


def test_dispensing_takes_the_quantity_from_stock(patient, pharmacist):
    cycle = CycleFactory(patient=patient)
    batch = BatchFactory(quantity_received=20, quantity_remaining=20)
    dispense(pharmacist, cycle, batch, quantity=5)
    batch.refresh_from_db()
    assert batch.quantity_remaining == 15
    assert batch.history.first().history_change_reason.startswith("Stock: 5 supplied")


def test_dispensing_records_who_supplied_it(patient, pharmacist):
    dispensing = dispense(pharmacist, CycleFactory(patient=patient), BatchFactory())
    assert dispensing.dispensed_by == pharmacist.get_full_name()
    assert dispensing.dispensed_by_user == pharmacist


@pytest.mark.parametrize(
    ("batch_fields", "message"),
    [
        ({"expiry_date": days_ago(85), "received_on": days_ago(200)}, "expired"),
        ({"status": BatchStatus.RECALLED, "status_reason": "sterility"}, "recalled"),
        ({"status": BatchStatus.QUARANTINED, "status_reason": "fridge excursion"}, "quarantined"),
        ({"quantity_received": 10, "quantity_remaining": 3}, "only 3"),
    ],
    ids=["expired", "recalled", "quarantined", "exhausted"],
)
def test_dispensing_from_an_unusable_batch_is_refused_and_stock_untouched(patient, pharmacist, batch_fields, message):
    batch = BatchFactory(**batch_fields)
    before = batch.quantity_remaining
    with pytest.raises(ValidationError) as error:
        dispense(pharmacist, CycleFactory(patient=patient), batch)
    assert message in error.value.message_dict["batch"][0]
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == before


def test_a_special_needs_reconstitution_and_beyond_use_times(patient, pharmacist):
    with pytest.raises(ValidationError) as error:
        dispense(pharmacist, CycleFactory(patient=patient), BatchFactory(), reconstituted_at=None, beyond_use_at=None)
    assert {"reconstituted_at", "beyond_use_at"} <= set(error.value.message_dict)


def test_beyond_use_time_cannot_exceed_the_batch_certificate_limit(patient, pharmacist):
    cycle = CycleFactory(patient=patient)
    with pytest.raises(ValidationError) as error:
        dispense(
            pharmacist,
            cycle,
            BatchFactory(max_hours_after_reconstitution=48),
            **reconstitution(cycle.start_date, hours=72),
        )
    assert "48 h" in error.value.message_dict["beyond_use_at"][0]


def test_dispensing_without_cold_chain_confirmation_is_refused(patient, pharmacist):
    with pytest.raises(ValidationError) as error:
        dispense(pharmacist, CycleFactory(patient=patient), BatchFactory(), cold_chain_confirmed=False)
    assert "cold_chain_confirmed" in error.value.message_dict


def test_a_product_from_another_route_cannot_be_dispensed(patient, pharmacist):
    ilt_batch = BatchFactory(
        product=Product.objects.get(code="ilt_101"), manufacturer_licence="", max_hours_after_reconstitution=None
    )
    with pytest.raises(ValidationError) as error:
        dispense(pharmacist, CycleFactory(patient=patient), ilt_batch)
    assert "not supplied on the patient's route" in error.value.message_dict["batch"][0]


def test_usable_batches_are_offered_first_expiry_first_out():
    later = BatchFactory(batch_number="LATE", expiry_date=days_ago(-200))
    sooner = BatchFactory(batch_number="SOON", expiry_date=days_ago(-30))
    BatchFactory(batch_number="GONE", expiry_date=days_ago(-10), status=BatchStatus.RECALLED, status_reason="x")
    assert usable_batches(Product.objects.get(code="proleukin_specials"), days_ago(0)) == [sooner, later]


def test_a_specials_batch_needs_the_manufacturers_licence():
    with pytest.raises(ValidationError) as error:
        BatchFactory(manufacturer_licence="")
    assert "manufacturer_licence" in error.value.message_dict


def test_recalling_a_batch_needs_a_reason_and_is_audited(pharmacist):
    batch = BatchFactory()
    batch_recall(
        actor=pharmacist,
        batch=batch,
        reason="Supplier recall notice 12",
        expected_version=1,
    )
    entry = batch.history.first()
    assert (entry.status, entry.history_user, entry.history_change_reason) == (
        "recalled",
        pharmacist,
        "Batch recalled: Supplier recall notice 12",
    )


def test_a_later_recall_does_not_invalidate_an_earlier_supply(patient, pharmacist):
    batch = BatchFactory()
    dispensing = dispense(pharmacist, CycleFactory(patient=patient), batch)
    batch_recall(actor=pharmacist, batch=batch, reason="recall", expected_version=2)
    dispensing.refresh_from_db()
    dispensing.full_clean()
