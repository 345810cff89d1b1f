"""The OpenAPI schema generates without warnings and its docs are served without a CDN."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.requirement("EXP-02"), pytest.mark.django_db]


def test_schema_generation_emits_no_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/alsfrs-r/" in (tmp_path / "schema.yaml").read_text()


def test_swagger_ui_is_served_from_local_static_files(world, client_for):
    response = client_for(world.analyst).get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html


def test_the_schema_documents_the_change_reason_header(world, client_for):
    schema = client_for(world.analyst).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = schema["paths"]["/api/v1/diagnoses/{id}/"]["patch"]["parameters"]
    assert any(p["name"] == "X-Change-Reason" and p["in"] == "header" for p in parameters)


@pytest.mark.parametrize(
    ("path", "method", "documented"),
    [
        ("/api/v1/diagnoses/", "get", {"200", "400", "401", "404", "429"}),
        ("/api/v1/diagnoses/", "post", {"201", "400", "401", "403", "429"}),
        ("/api/v1/diagnoses/{id}/", "get", {"200", "401", "404", "429"}),
        ("/api/v1/diagnoses/{id}/", "patch", {"200", "400", "401", "403", "404", "409", "429"}),
        ("/api/v1/identities/{id}/", "get", {"200", "401", "403", "404", "429"}),  # analysts: 403
        ("/api/v1/dispensings/", "post", {"201", "400", "401", "403", "429"}),
        ("/api/v1/dataset-dictionary/", "get", {"200", "401", "429"}),
    ],
)
def test_the_schema_documents_the_errors_each_operation_can_answer(world, client_for, path, method, documented):
    schema = client_for(world.analyst).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    responses = schema["paths"][path][method]["responses"]
    assert set(responses) == documented
    assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True


def test_the_schema_documents_what_the_dataset_actions_send(world, client_for):
    """The annotations on `@action` methods (api.schema_marks, handed to drf-spectacular when the
    schema is first asked for) reach the schema: the file's media type and the table's values."""
    schema = client_for(world.analyst).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/datasets/{table}/csv/"]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    table = next(p for p in operation["parameters"] if p["name"] == "table")
    assert "alsfrs_r" in table["schema"]["enum"]
