"""A patient's page and a form save cost a fixed number of queries however much the patient has on
record, and a request reads the user's site scope once (issue 18, item 3). Exact counts: a change
that adds a query per record fails here, and so does one that adds a query per page without
saying so. (The list and the worklist: tests/web/test_patient_pages.py, test_pharmacy_pages.py.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry import services
from registry.models import BiomarkerResult
from registry.selectors import patients_visible_to, user_sites
from tests.factories import IdentityFactory, days_ago, treated_patient
from tests.web.conftest import assess, followed_patient, logged_in
from tests.web.test_patient_pages import LIST, PAGE_QUERIES

pytestmark = pytest.mark.django_db

# User, OTP device check (the session is read from the cache), savepoints (request, service, write), the patient and its
# visibility check, the signatures that would lock it, its end of follow-up (events, consent
# withdrawal), its diagnosis (onset date), the duplicate check, the row and its history row, the
# data-quality rules and the results they read, the session save with the success message.
BIOMARKER_SAVE_QUERIES = 23


def with_records(patient, records: int):
    """`records` ALSFRS-R assessments and as many biomarker results, 18 days apart after onset."""
    for month in range(records):
        assess(patient, days_ago(390 - 18 * month))
        services.biomarker_record(
            actor=None,
            patient=patient,
            sample_date=days_ago(389 - 18 * month),
            analyte="csf_pnfh",
            reported_value=Decimal("2.1"),
            reported_unit="ng/mL",
            assay="ProteinSimple Ella pNF-H",
        )
    return patient


@pytest.mark.parametrize("records", [2, 20])
def test_the_patient_page_costs_the_same_queries_however_many_records_the_patient_has(
    clinician, london, records, django_assert_num_queries
):
    patient = with_records(treated_patient(site=london), records)
    IdentityFactory(patient=patient)
    client = logged_in(clinician)
    with django_assert_num_queries(PAGE_QUERIES):
        page = client.get(reverse("clinic:patient_detail", args=[patient.study_id]))
    assert page.status_code == 200
    assert len(page.context["o"].assessments) == records


@pytest.mark.parametrize("records", [2, 20])
def test_saving_a_biomarker_costs_the_same_queries_however_many_records_the_patient_has(
    clinician, london, records, django_assert_num_queries
):
    patient = with_records(treated_patient(site=london), records)
    client = logged_in(clinician)
    form = {
        "sample_date": days_ago(1).isoformat(),
        "analyte": "csf_pnfh",
        "reported_value": "2.5",
        "reported_unit": "ng/mL",
        "assay": "ProteinSimple Ella pNF-H",
        "laboratory": "",
    }
    with django_assert_num_queries(BIOMARKER_SAVE_QUERIES):
        saved = client.post(reverse("clinic:biomarker_create", args=[patient.study_id]), form)
    assert saved.status_code == 302
    assert BiomarkerResult.objects.filter(patient=patient).count() == records + 1


def site_queries(queries: CaptureQueriesContext) -> int:
    return sum('FROM "registry_site"' in query["sql"] for query in queries.captured_queries)


def test_the_patient_list_reads_the_users_sites_once(clinician, london):
    followed_patient(london)
    client = logged_in(clinician)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    assert site_queries(queries) == 1


def test_the_site_scope_is_read_once_per_user_object(clinician, london):
    with CaptureQueriesContext(connection) as queries:
        first = list(patients_visible_to(clinician, read_sites_first=True))
        second = list(patients_visible_to(clinician, read_sites_first=True))
    assert first == second
    assert site_queries(queries) == 1


def test_a_change_of_sites_is_seen_at_once_by_the_same_user_object(clinician, london, sheffield):
    theirs = treated_patient(site=sheffield)
    assert [site.code for site in user_sites(clinician)] == ["GB-LON"]
    assert theirs not in patients_visible_to(clinician, read_sites_first=True)
    clinician.sites.add(sheffield)
    assert [site.code for site in user_sites(clinician)] == ["GB-LON", "GB-SHF"]
    assert theirs in patients_visible_to(clinician, read_sites_first=True)
    clinician.sites.remove(london)
    assert [site.code for site in user_sites(clinician)] == ["GB-SHF"]


def test_a_deactivated_user_object_sees_no_site_once_saved(clinician, london):
    followed_patient(london)
    assert user_sites(clinician)
    clinician.is_active = False
    clinician.save()
    assert user_sites(clinician) == []
    assert not patients_visible_to(clinician, read_sites_first=True).exists()
