"""Stock is accounted for from receipt to destruction, per batch and per site (issue 16, item 2):
goods in against a delivery note into quarantine, release by a pharmacist, dispensing from the
patient's site, transfers, patient returns never restocked, witnessed destruction, counts whose
differences stay listed until explained, and a reconciliation that balances."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from access_programme import selectors, services
from access_programme.models import Batch, BatchStatus, Product, SiteStock, StockMovement
from access_programme.stock import services as stock
from registry.models import Role
from tests.factories import CycleFactory, SiteFactory, UserFactory, days_ago, prescribed, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def london():
    return SiteFactory.create(code="GB-LON")


@pytest.fixture
def sheffield():
    return SiteFactory.create(code="GB-SHF")


@pytest.fixture
def pharmacist(london, sheffield):
    return UserFactory.create(
        username="chloe", first_name="Chloe", last_name="Patel", role=Role.PHARMACIST, sites=[london, sheffield]
    )


def goods_in(actor, site, quantity=20, number="ILT-0001"):
    return stock.batch_goods_in(
        actor=actor,
        product=Product.objects.get(code="ilt_101"),
        site=site,
        delivery_note="DN-77",
        batch_number=number,
        expiry_date=days_ago(-200),
        supplier="ILTOO Pharma",
        received_on=days_ago(90),
        quantity_received=quantity,
        quantity_unit="syringe",
        dose_miu_per_unit=Decimal(2),
    )


def dispense(actor, patient, batch, quantity=5):
    cycle = prescribed(CycleFactory(patient=patient))
    return services.dispensing_record(
        actor=actor,
        cycle=cycle,
        batch=Batch.objects.get(pk=batch.pk),
        dispensed_on=cycle.start_date,
        quantity=quantity,
        days_supplied=5,
        quantity_unit="syringe",
        dose_miu_per_unit=Decimal(2),
        prescriber="Dr Who (GMC 7654321)",
        cold_chain_confirmed=True,
    )


def released(actor, batch):
    return services.batch_release(actor=actor, batch=batch, reason="Certificate checked")


def test_goods_in_needs_a_delivery_note_and_waits_in_quarantine(pharmacist, london):
    batch = goods_in(pharmacist, london)
    assert batch.status == BatchStatus.QUARANTINED
    assert StockMovement.objects.get(batch=batch).reference == "DN-77"
    with pytest.raises(ValidationError):
        stock.batch_goods_in(actor=pharmacist, product=batch.product, site=london, delivery_note=" ")


def test_release_records_the_releasing_pharmacist(pharmacist, london):
    batch = released(pharmacist, goods_in(pharmacist, london))
    assert (batch.status, batch.released_by) == (BatchStatus.AVAILABLE, pharmacist)


def test_only_a_pharmacist_releases_a_batch(pharmacist, london):
    batch = goods_in(pharmacist, london)
    with pytest.raises(PermissionDenied):
        services.batch_release(actor=UserFactory.create(role=Role.DATA_MANAGER), batch=batch, reason="ok")


def test_dispensing_takes_from_the_patients_site(pharmacist, london, sheffield):
    batch = released(pharmacist, goods_in(pharmacist, london, quantity=6))
    with pytest.raises(ValidationError) as error:
        dispense(pharmacist, treated_patient(site=sheffield, route="managed_access"), batch)
    assert "GB-SHF holds 0 prefilled syringes" in error.value.messages[0]
    dispense(pharmacist, treated_patient(site=london, route="managed_access"), batch)
    assert SiteStock.objects.get(batch=batch, site=london).quantity == 1


def test_a_transfer_moves_stock_between_sites(pharmacist, london, sheffield):
    batch = released(pharmacist, goods_in(pharmacist, london))
    stock.stock_transfer(
        actor=pharmacist, batch=batch, from_site=london, to_site=sheffield, quantity=8, transferred_on=days_ago(1)
    )
    held = dict(SiteStock.objects.filter(batch=batch).values_list("site__code", "quantity"))
    assert held == {"GB-LON": 12, "GB-SHF": 8}


def test_a_transfer_cannot_take_more_than_the_site_holds(pharmacist, london, sheffield):
    batch = released(pharmacist, goods_in(pharmacist, london, quantity=3))
    with pytest.raises(ValidationError):
        stock.stock_transfer(
            actor=pharmacist, batch=batch, from_site=london, to_site=sheffield, quantity=4, transferred_on=days_ago(1)
        )


def test_a_patient_return_is_counted_and_never_restocked(pharmacist, london):
    batch = released(pharmacist, goods_in(pharmacist, london))
    supply = dispense(pharmacist, treated_patient(site=london, route="managed_access"), batch)
    stock.stock_return(actor=pharmacist, dispensing=supply, quantity=2, condition="unused", returned_on=days_ago(0))
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == 15
    assert stock.returns_held(batch, london) == 2
    with pytest.raises(ValidationError):
        stock.stock_return(
            actor=pharmacist, dispensing=supply, quantity=4, condition="part_used", returned_on=days_ago(0)
        )


def test_destruction_needs_a_method_and_a_witness_other_than_the_recorder(pharmacist, london):
    batch = goods_in(pharmacist, london)
    common = {"actor": pharmacist, "batch": batch, "site": london, "quantity": 1, "destroyed_on": days_ago(0)}
    with pytest.raises(ValidationError) as error:
        stock.stock_destroy(source="stock", method="", witness="Chloe Patel", **common)
    assert set(error.value.message_dict) == {"method", "witness"}
    stock.stock_destroy(source="stock", method="Cytotoxic sharps bin", witness="Dan Jones", **common)
    assert SiteStock.objects.get(batch=batch, site=london).quantity == 19


def test_the_reconciliation_balances_after_every_kind_of_movement(pharmacist, london, sheffield):
    batch = released(pharmacist, goods_in(pharmacist, london, quantity=30))
    stock.stock_transfer(
        actor=pharmacist, batch=batch, from_site=london, to_site=sheffield, quantity=10, transferred_on=days_ago(1)
    )
    supply = dispense(pharmacist, treated_patient(site=london, route="managed_access"), batch)
    dispense(pharmacist, treated_patient(site=sheffield, route="managed_access"), batch, quantity=4)
    stock.stock_return(actor=pharmacist, dispensing=supply, quantity=1, condition="part_used", returned_on=days_ago(0))
    stock.stock_destroy(
        actor=pharmacist,
        batch=batch,
        site=london,
        quantity=2,
        source="stock",
        method="Bin",
        witness="Dan Jones",
        destroyed_on=days_ago(0),
    )
    stock.stock_destroy(
        actor=pharmacist,
        batch=batch,
        site=london,
        quantity=1,
        source="returns",
        method="Bin",
        witness="Dan Jones",
        destroyed_on=days_ago(0),
    )
    (whole,) = selectors.reconcile([batch])
    by_site = {row.site.code: row for row in whole.sites}
    assert (by_site["GB-LON"].received, by_site["GB-LON"].transferred_out, by_site["GB-LON"].in_stock) == (30, 10, 13)
    assert (by_site["GB-SHF"].transferred_in, by_site["GB-SHF"].dispensed, by_site["GB-SHF"].in_stock) == (10, 4, 6)
    assert whole.balanced and all(row.balanced for row in whole.sites)
    assert (whole.returned, whole.returns_held) == (1, 0)


def test_a_count_that_differs_is_listed_until_explained(pharmacist, london):
    batch = goods_in(pharmacist, london)
    assert stock.stock_count(actor=pharmacist, batch=batch, site=london, counted=20, counted_on=days_ago(0)) is None
    found = stock.stock_count(actor=pharmacist, batch=batch, site=london, counted=19, counted_on=days_ago(0))
    assert found.difference == -1
    assert selectors.reconciliation_report(pharmacist).discrepancies == [found]
    stock.discrepancy_explain(actor=pharmacist, discrepancy=found, explanation="Syringe broken on the shelf")
    assert selectors.reconciliation_report(pharmacist).discrepancies == []


@pytest.mark.postgres
def test_the_database_refuses_negative_site_stock(pharmacist, london):
    batch = goods_in(pharmacist, london)
    with pytest.raises(IntegrityError), transaction.atomic():
        SiteStock.objects.filter(batch=batch, site=london).update(quantity=-1)


@pytest.mark.postgres
def test_the_ledger_is_append_only_for_the_app(pharmacist, london):
    batch = goods_in(pharmacist, london)
    with pytest.raises(DatabaseError), transaction.atomic():
        StockMovement.objects.filter(batch=batch).update(quantity=1)
    assert StockMovement.objects.get(batch=batch).quantity == 20
