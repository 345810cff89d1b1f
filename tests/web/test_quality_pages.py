"""The data-quality pages: a site's summary, a query's page, raising a query by hand."""

from __future__ import annotations

import pytest
from django.test import Client

from registry import services
from registry.models import DataQuery, QueryStatus
from tests.conftest import login_with_second_factor
from tests.factories import treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def query(london, data_manager) -> DataQuery:
    patient = treated_patient(site=london)
    return services.data_query_raise(actor=data_manager, record=patient, message="Year of birth right?")


def test_the_site_page_counts_open_queries_by_age(clinician_client, query):
    page = clinician_client.get("/quality/")
    assert page.status_code == 200
    assert page.context["q"].open_by_age[0] == ("0–7 days", 1)
    assert "Year of birth right?" in page.content.decode()


def test_a_clinician_does_not_see_another_sites_page(clinician_client, sheffield):
    assert clinician_client.get("/quality/?site=GB-SHF").status_code == 404


def test_a_clinician_does_not_open_a_query_of_another_site(sheffield, data_manager, clinician_client):
    other = services.data_query_raise(actor=data_manager, record=treated_patient(site=sheffield), message="?")
    assert clinician_client.get(f"/quality/queries/{other.pk}/").status_code == 404


def test_a_clinician_answers_from_the_query_page(clinician_client, query):
    response = clinician_client.post(f"/quality/queries/{query.pk}/answer/", {"answer": "Checked: correct"})
    assert response.status_code == 302
    query.refresh_from_db()
    assert (query.status, query.answer) == (QueryStatus.ANSWERED, "Checked: correct")


def test_an_empty_answer_is_refused_with_a_message_and_nothing_changes(clinician_client, query):
    response = clinician_client.post(f"/quality/queries/{query.pk}/answer/", {"answer": " "})
    assert response.status_code == 400
    assert "Write the answer" in response.content.decode()
    query.refresh_from_db()
    assert query.status == QueryStatus.OPEN


def test_a_clinician_cannot_close_a_query(clinician_client, query):
    assert clinician_client.post(f"/quality/queries/{query.pk}/close/", {"reason": "x"}).status_code == 403


def test_a_data_manager_raises_a_query_on_a_record_of_the_patient(data_manager, london):
    patient = treated_patient(site=london)
    client = Client()
    login_with_second_factor(client, data_manager)
    page = client.get(f"/patients/{patient.study_id}/queries/new/")
    diagnosis_key = next(key for key, label in page.context["form"].fields["record"].choices if "Diagnosis" in label)
    response = client.post(
        f"/patients/{patient.study_id}/queries/new/",
        {"record": diagnosis_key, "field_name": "svc_percent", "severity": "major", "message": "SVC source?"},
    )
    assert response.status_code == 302
    query = DataQuery.objects.get()
    assert (query.record, query.field_name) == (patient.diagnosis, "svc_percent")


def test_a_clinician_is_not_offered_raising_a_query(clinician_client, london):
    patient = treated_patient(site=london)
    assert clinician_client.get(f"/patients/{patient.study_id}/queries/new/").status_code == 403


def test_the_identity_search_page_lists_the_patient_found(clinician_client, london):
    from tests.factories import IdentityFactory

    patient = treated_patient(site=london)
    IdentityFactory(patient=patient, family_name="Jones")
    page = clinician_client.get("/patients/find/", {"nhs_number": "9434765919"})
    assert page.status_code == 200 and patient.study_id in page.content.decode()


def test_a_search_too_broad_says_what_to_give(clinician_client):
    page = clinician_client.get("/patients/find/", {"family_name": "Jones"})
    assert "Give the NHS number" in page.content.decode()


def test_an_analyst_is_refused_the_identity_search(analyst):
    client = Client()
    login_with_second_factor(client, analyst)
    assert client.get("/patients/find/").status_code == 403
