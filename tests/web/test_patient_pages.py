"""The clinicians' patient list and patient page: scoped to their sites, due items flagged, fixed cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from registry import services
from registry.selectors import pnfh_stratum
from tests.factories import IdentityFactory, days_ago, treated_patient
from tests.web.conftest import assess, followed_patient, logged_in, on_schedule

pytestmark = pytest.mark.django_db
LIST = reverse("registry:patient_list")

# Exact counts, the same for 1 or 30 patients: session, user, OTP device check, request
# savepoints, sites and routes for the filters, count, one page of annotated rows, session save.
LIST_QUERIES = 12
# The page also reads identity (logged), and one query per kind of record.
PAGE_QUERIES = 19


def page_url(patient) -> str:
    return reverse("registry:patient_detail", args=[patient.study_id])


def test_the_list_shows_only_the_clinicians_own_sites(clinician_client, london, sheffield):
    mine, theirs = treated_patient(site=london), treated_patient(site=sheffield)
    content = clinician_client.get(LIST).content.decode()
    assert mine.study_id in content and theirs.study_id not in content


def test_the_list_is_searched_by_study_id(clinician_client, london):
    first, second = treated_patient(site=london), treated_patient(site=london)
    content = clinician_client.get(LIST, {"q": second.study_id}).content.decode()
    assert second.study_id in content and first.study_id not in content


def test_the_list_is_filtered_by_route(clinician_client, london):
    specials = treated_patient(site=london, route="nhs_specials")
    map_patient = treated_patient(site=london, route="managed_access")
    content = clinician_client.get(LIST, {"route": "managed_access"}).content.decode()
    assert map_patient.study_id in content and specials.study_id not in content


def test_the_list_is_filtered_by_status(clinician_client, london):
    alive, dead = treated_patient(site=london), treated_patient(site=london)
    services.event_record(user=None, patient=dead, event_type="death", event_date=days_ago(2))
    content = clinician_client.get(LIST, {"status": "deceased"}).content.decode()
    assert dead.study_id in content and alive.study_id not in content


def test_the_list_is_paginated_25_to_a_page(clinician_client, london):
    for _ in range(27):
        treated_patient(site=london)
    response = clinician_client.get(LIST, {"page": 2})
    assert len(response.context["rows"]) == 2


def test_an_overdue_cycle_is_flagged(clinician_client, london):
    treated_patient(site=london)  # first dose 84 days ago, no cycle recorded
    assert "Cycle 1 overdue" in clinician_client.get(LIST).content.decode()


def test_an_alsfrs_r_more_than_three_months_old_is_flagged_overdue(clinician_client, london):
    patient = treated_patient(site=london)
    on_schedule(patient, 3)
    assess(patient, days_ago(100))
    assert "ALSFRS-R overdue" in clinician_client.get(LIST).content.decode()


def test_an_open_serious_adverse_event_is_flagged(clinician_client, clinician, london):
    patient = followed_patient(london)
    services.adverse_event_report(
        user=clinician,
        patient=patient,
        term="Aspiration pneumonia",
        onset_date=days_ago(3),
        ctcae_grade=3,
        serious=True,
        criterion_hospitalisation=True,
        relatedness="not_related",
    )
    assert "Open serious AE" in clinician_client.get(LIST).content.decode()


def test_a_patient_followed_on_schedule_has_nothing_overdue(clinician_client, london):
    followed_patient(london)
    content = clinician_client.get(LIST).content.decode()
    assert "overdue" not in content.lower().replace("cycle overdue</option>", "")


@pytest.mark.parametrize("patients", [1, 30])
def test_the_list_costs_the_same_queries_for_any_number_of_patients(
    clinician, london, patients, django_assert_num_queries
):
    for _ in range(patients):
        followed_patient(london)
    client = logged_in(clinician)
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(LIST).status_code == 200


def test_a_clinician_of_another_site_gets_404_not_403(clinician_client, sheffield):
    other = treated_patient(site=sheffield)
    assert clinician_client.get(page_url(other)).status_code == 404


def test_the_patient_page_shows_chart_stages_and_pnfh_stratum_with_assay(clinician_client, london):
    patient = followed_patient(london)
    services.biomarker_record(
        user=None,
        patient=patient,
        sample_date=days_ago(80),
        analyte="csf_pnfh",
        value=Decimal("2.1"),
        unit="ng/mL",
        assay="ProteinSimple Ella pNF-H",
    )
    content = clinician_client.get(page_url(patient)).content.decode()
    assert "<svg" in content and "Domain subscores" in content
    assert "King's 1" in content and "MiToS 0" in content
    assert "Low (750–3700 pg/mL)" in content and "2100 pg/mL" in content and "ProteinSimple Ella pNF-H" in content


def test_the_timeline_lists_enrolment_cycles_and_assessments(clinician_client, london):
    content = clinician_client.get(page_url(followed_patient(london))).content.decode()
    for entry in ("Enrolled: NHS Specials", "Cycle 3 started", "ALSFRS-R 47/48", "Diagnosis:"):
        assert entry in content


def test_analysts_see_the_patient_page_without_identity(analyst, london):
    patient = followed_patient(london)
    IdentityFactory(patient=patient)
    content = logged_in(analyst).get(page_url(patient)).content.decode()
    assert "Testperson" not in content and patient.study_id in content


def test_clinicians_see_identity_on_the_patient_page(clinician_client, london):
    patient = followed_patient(london)
    IdentityFactory(patient=patient)
    assert "Testperson" in clinician_client.get(page_url(patient)).content.decode()


@pytest.mark.parametrize("others", [0, 20])
def test_the_patient_page_costs_the_same_queries_whatever_the_cohort(
    clinician, london, others, django_assert_num_queries
):
    patient = followed_patient(london)
    IdentityFactory(patient=patient)
    for _ in range(others):
        followed_patient(london)
    client = logged_in(clinician)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(page_url(patient)).status_code == 200


@pytest.mark.parametrize(
    ("value", "stratum"), [(749, "below_750"), (750, "low"), (3700, "low"), (3701, "high"), (None, None)]
)
def test_pnfh_strata_follow_mirocals(value, stratum):
    assert pnfh_stratum(value) == stratum
