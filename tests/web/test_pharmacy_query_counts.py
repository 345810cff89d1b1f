"""The pharmacy pages cost a fixed number of queries, however many patients, supplies and batches
there are (issue 16, item 6; issue 18, item 3). Exact counts: a change that adds a query per row
fails here, and so does one that adds a query per page without saying so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access_programme import selectors
from tests.factories import BatchFactory, treated_patient
from tests.web.conftest import logged_in
from tests.web.test_pharmacy_pages import prescribed, supplied

pytestmark = pytest.mark.django_db

# Exact, and the same for 1 or 5 batches / recipients (`pytest -vv` lists them when a count is off).
BATCH_REGISTER_QUERIES = 8
BATCH_PAGE_QUERIES = 13  # with the recipients' adverse events (issue 16, item 4a); both counts in one


@pytest.mark.parametrize("size", [1, 5])
def test_the_batch_register_costs_the_same_queries_for_any_number_of_batches_and_supplies(
    pharmacist, london, size, django_assert_num_queries
):
    for _ in range(size):
        batch = BatchFactory()
        supplied(treated_patient(site=london), batch)
    client = logged_in(pharmacist)
    with django_assert_num_queries(BATCH_REGISTER_QUERIES):
        assert client.get(reverse("pharmacy:batch_list")).status_code == 200


@pytest.mark.parametrize("size", [1, 5])
def test_a_batch_page_costs_the_same_queries_for_any_number_of_recipients(
    pharmacist, london, sheffield, size, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(selectors.batches, "RECIPIENTS_PAGE_SIZE", 2)  # 5 recipients: three pages
    batch = BatchFactory()
    for _ in range(size):
        supplied(treated_patient(site=london), batch)
        supplied(treated_patient(site=sheffield), batch)
    client = logged_in(pharmacist)
    with django_assert_num_queries(BATCH_PAGE_QUERIES):
        assert client.get(reverse("pharmacy:batch_detail", args=[batch.pk])).status_code == 200


DISPENSE_FORM_QUERIES = 14  # the form of the next cycle, its prescription checked, its usable batches


@pytest.mark.parametrize("size", [1, 5])
def test_the_dispense_form_costs_the_same_queries_for_any_number_of_usable_batches(
    pharmacist, london, size, django_assert_num_queries
):
    patient = treated_patient(site=london)
    prescribed(patient)
    for number in range(size):
        BatchFactory(batch_number=f"B-{number}")
    client = logged_in(pharmacist)
    with django_assert_num_queries(DISPENSE_FORM_QUERIES):
        response = client.get(reverse("pharmacy:dispense", args=[patient.study_id]))
    assert response.status_code == 200
    assert len(response.context["batches"]) == size
