"""Analysts never receive a name, an NHS number or a birth date in any API response."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from analytics import exports
from registry.models import PatientIdentity

pytestmark = [pytest.mark.requirement("ACC-03"), pytest.mark.django_db]


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if raw.startswith(b"PAR1"):
        return pq.read_table(io.BytesIO(raw)).to_pandas().to_csv()
    return raw.decode("utf-8")


def _identifiers() -> list[str]:
    found = []
    for identity in PatientIdentity.objects.all():
        nhs = identity.nhs_number
        found += [identity.given_name, identity.family_name, nhs, f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"]
        found += [identity.date_of_birth.isoformat(), identity.date_of_birth.strftime("%d/%m/%Y")]
    return found


def _every_get_url(client) -> list[str]:
    urls = [f"/api/v1/{name}/" for name in client.get("/api/v1/").json()]
    for url in list(urls):
        response = client.get(url)
        if response.status_code == 200 and isinstance(response.json(), dict):
            urls += [f"{url}{row['id']}/" for row in response.json()["results"]]
    urls += [f"/api/v1/datasets/{table}/{fmt}/" for table in exports.TABLES for fmt in ("csv", "parquet")]
    urls += ["/api/v1/dataset-dictionary/csv/", "/api/v1/dataset-dictionary/markdown/", "/api/schema/"]
    return urls


def test_no_api_response_to_an_analyst_contains_an_identifier(world, full_patient, client_for):
    full_patient(world.london, given_name="Philippa")
    client = client_for(world.analyst)
    identifiers = _identifiers()
    scanned = 0
    for url in _every_get_url(client):
        response = client.get(url)
        body = _body(response)
        leaked = [value for value in identifiers if value in body]
        assert not leaked, f"{url} leaks {leaked}"
        scanned += response.status_code == 200
    assert scanned > 30
