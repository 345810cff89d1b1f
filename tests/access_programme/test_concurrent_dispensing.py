"""Parallel dispensing from the same batch never drives stock below zero (row locks on PostgreSQL)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from access_programme.models import Batch, Dispensing, Product
from access_programme.services import dispensing_record
from registry.models import Role
from tests.factories import BatchFactory, CycleFactory, SiteFactory, UserFactory, prescribed, treated_patient

pytestmark = [
    pytest.mark.requirement("PHA-02"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_parallel_dispensing_from_the_last_units_of_a_batch_never_oversupplies():
    site = SiteFactory(code="GB-LON")
    pharmacist = UserFactory(username="chloe", role=Role.PHARMACIST, sites=[site])
    batch = BatchFactory(
        product=Product.objects.get(code="ilt_101"),
        manufacturer_licence="",
        max_hours_after_reconstitution=None,
        quantity_received=7,
        quantity_remaining=7,
    )
    cycles = [prescribed(CycleFactory(patient=treated_patient(site=site, route="managed_access"))) for _ in range(4)]
    barrier = threading.Barrier(len(cycles))
    outcomes: list[str] = []

    def dispense(cycle) -> None:
        try:
            barrier.wait(timeout=10)
            dispensing_record(
                actor=pharmacist,
                cycle=cycle,
                batch=batch,
                dispensed_on=cycle.start_date,
                quantity=2,
                days_supplied=5,
                quantity_unit="syringe",
                dose_miu_per_unit=Decimal(2),
                prescriber="Dr Who (GMC 7654321)",
                cold_chain_confirmed=True,
            )
            outcomes.append("supplied")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=dispense, args=(cycle,)) for cycle in cycles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes.count("supplied") == 3
    refused = [o for o in outcomes if o != "supplied"]
    assert len(refused) == 1
    assert "has only 1 syringe(s) left" in refused[0]
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == 1
    assert Dispensing.objects.count() == 3


def test_parallel_dispensing_never_takes_a_sites_stock_below_zero():
    """Two pharmacists supply the last 3 units held at a site at once: one is refused."""
    from access_programme.models import SiteStock
    from access_programme.services import batch_release
    from access_programme.stock.services import batch_goods_in
    from tests.factories import days_ago

    site = SiteFactory(code="GB-LON")
    pharmacist = UserFactory(username="chloe", role=Role.PHARMACIST, sites=[site])
    batch = batch_goods_in(
        actor=pharmacist,
        product=Product.objects.get(code="ilt_101"),
        site=site,
        delivery_note="DN-1",
        batch_number="ILT-RACE",
        expiry_date=days_ago(-100),
        supplier="ILTOO Pharma",
        received_on=days_ago(90),
        quantity_received=3,
        quantity_unit="syringe",
        dose_miu_per_unit=Decimal(2),
    )
    batch_release(actor=pharmacist, batch=batch, reason="Certificate checked")
    cycles = [prescribed(CycleFactory(patient=treated_patient(site=site, route="managed_access"))) for _ in range(2)]
    barrier = threading.Barrier(len(cycles))
    outcomes: list[str] = []

    def dispense(cycle) -> None:
        try:
            barrier.wait(timeout=10)
            dispensing_record(
                actor=pharmacist,
                cycle=cycle,
                batch=batch,
                dispensed_on=cycle.start_date,
                quantity=2,
                days_supplied=5,
                quantity_unit="syringe",
                dose_miu_per_unit=Decimal(2),
                prescriber="Dr Who (GMC 7654321)",
                cold_chain_confirmed=True,
            )
            outcomes.append("supplied")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=dispense, args=(cycle,)) for cycle in cycles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes)[-1] == "supplied" and outcomes.count("supplied") == 1
    assert SiteStock.objects.get(batch=batch, site=site).quantity == 1
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == 1
