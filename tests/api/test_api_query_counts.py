"""List endpoints run a fixed number of queries however many rows they return (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "/api/v1/sites/",
    "/api/v1/routes/",
    "/api/v1/products/",
    "/api/v1/patients/",
    "/api/v1/identities/",
    "/api/v1/consents/",
    "/api/v1/diagnoses/",
    "/api/v1/alsfrs-r/",
    "/api/v1/biomarkers/",
    "/api/v1/events/",
    "/api/v1/adverse-events/",
    "/api/v1/enrolments/",
    "/api/v1/cycles/",
    "/api/v1/batches/",
    "/api/v1/dispensings/",
]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", LIST_URLS)
def test_list_query_count_does_not_grow_with_rows(world, full_patient, client_for, django_assert_num_queries, url):
    client = client_for(world.data_manager)
    full_patient(world.london)
    expected = _queries(client, url)
    for _ in range(3):
        full_patient(world.sheffield)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert len(response.json()["results"]) >= 2 or url in ("/api/v1/routes/", "/api/v1/products/")
