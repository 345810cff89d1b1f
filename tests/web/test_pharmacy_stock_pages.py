"""The stock pages: a batch's stock by site with transfer, destruction and count forms, patient
returns, and the reconciliation page listing discrepancies until explained (issue 16, item 2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from access_programme.models import Product, SiteStock, StockDiscrepancy
from access_programme.stock import services as stock
from tests.factories import days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(pharmacist, london):
    return stock.batch_goods_in(
        actor=pharmacist,
        product=Product.objects.get(code="ilt_101"),
        site=london,
        delivery_note="DN-9",
        batch_number="ILT-WEB",
        expiry_date=days_ago(-200),
        supplier="ILTOO Pharma",
        received_on=days_ago(10),
        quantity_received=12,
        quantity_unit="syringe",
        dose_miu_per_unit=Decimal(2),
    )


def test_a_witnessed_destruction_is_recorded_from_the_stock_page(pharmacist_client, batch, london):
    url = reverse("pharmacy:batch_stock", args=[batch.pk])
    data = {
        "action": "destroy",
        "destroy-site": london.pk,
        "destroy-source": "stock",
        "destroy-quantity": 2,
        "destroy-method": "Cytotoxic sharps bin",
        "destroy-witness": "Dan Jones",
        "destroy-destroyed_on": days_ago(0).isoformat(),
    }
    assert pharmacist_client.post(url, data).status_code == 302
    assert SiteStock.objects.get(batch=batch, site=london).quantity == 10
    content = pharmacist_client.get(url).content.decode()
    assert "witnessed by Dan Jones" in content and "Balanced" in content


def test_a_destruction_without_a_witness_is_refused_on_the_form(pharmacist_client, batch, london):
    url = reverse("pharmacy:batch_stock", args=[batch.pk])
    data = {
        "action": "destroy",
        "destroy-site": london.pk,
        "destroy-source": "stock",
        "destroy-quantity": 2,
        "destroy-method": "Bin",
        "destroy-witness": "Chloe Patel",
        "destroy-destroyed_on": days_ago(0).isoformat(),
    }
    response = pharmacist_client.post(url, data)
    assert response.status_code == 400 and "second person" in response.content.decode()
    assert SiteStock.objects.get(batch=batch, site=london).quantity == 12


def test_a_count_discrepancy_stays_on_the_reconciliation_page_until_explained(pharmacist_client, batch, london):
    url = reverse("pharmacy:batch_stock", args=[batch.pk])
    pharmacist_client.post(
        url,
        {"action": "count", "count-site": london.pk, "count-counted": 11, "count-counted_on": days_ago(0).isoformat()},
    )
    found = StockDiscrepancy.objects.get()
    page = reverse("pharmacy:reconciliation")
    assert "11 found, 12 expected (-1)" in pharmacist_client.get(page).content.decode()
    pharmacist_client.post(page, {"pk": found.pk, "explanation": "Dropped and broken"})
    assert "No discrepancy" in pharmacist_client.get(page).content.decode()


def test_an_unbalanced_row_is_explained_on_the_reconciliation_page_and_shows_its_explanation(
    pharmacist_client, batch, london
):
    SiteStock.objects.filter(batch=batch, site=london).update(quantity=10)  # moved outside the services
    page = reverse("pharmacy:reconciliation")
    listed = pharmacist_client.get(page).content.decode()
    assert "ILT-WEB</a> at GB-LON: 2 unaccounted for" in listed
    figures = {"received": 12, "transferred_in": 0, "in_stock": 10, "dispensed": 0}
    figures |= {"destroyed_from_stock": 0, "transferred_out": 0}
    data = {"action": "row", "batch": batch.pk, "site": london.pk, "explanation": "Two broken in the fridge", **figures}
    assert pharmacist_client.post(page, data).status_code == 302
    shown = pharmacist_client.get(page).content.decode()
    assert "No discrepancy to explain" in shown and "explained by Chloe Patel" in shown
    assert "Two broken in the fridge" in shown
    SiteStock.objects.filter(batch=batch, site=london).update(quantity=9)
    again = pharmacist_client.get(page).content.decode()
    assert "3 unaccounted for" in again and "Explained before for other figures" in again
    stale = pharmacist_client.post(page, data)
    assert stale.status_code == 400 and "have changed since you opened the page" in stale.content.decode()
