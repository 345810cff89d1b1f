"""A path no route matches: API clients get DRF's JSON error body, web pages the HTML page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nonexistent/",
        "/api/v1/datasets/no-such-table/",  # the route's own pattern refuses the table name
        "/api/v1/patients/1/no-such-action/",
    ],
)
def test_an_unknown_api_path_answers_404_with_drfs_json_error(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_web_page_answers_the_html_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
