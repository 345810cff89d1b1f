"""The clinicians' patient list and patient page: scoped to their sites, due items flagged, fixed cost."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from access_programme.models import Enrolment
from access_programme.selectors import follow_up, patient_list, patient_list_page, with_follow_up
from registry import services
from registry.constants import pnfh_stratum
from registry.models import Consent, Patient
from registry.services import audited_save
from tests.factories import TODAY, DiagnosisFactory, IdentityFactory, PatientFactory, days_ago, treated_patient
from tests.web.conftest import assess, followed_patient, logged_in, on_schedule

pytestmark = pytest.mark.django_db
LIST = reverse("clinic:patient_list")

# Exact counts, the same for 1 or 30 patients (the session is read from the cache: no query):
# user, OTP device check, request savepoints, the user's sites (read once: the site filter and
# the scope), routes for the filters, count, the page's ids, the page's annotated rows, session save.
LIST_QUERIES = 12
# the module (the package's `patient_list` is the function of that name)
patient_list_module = importlib.import_module("access_programme.selectors.patient_list")
# The page also reads identity (one query, scope included; logged), one query per kind of record, its open data queries,
# its signatures, its open recall notices (issue 16, item 4) and its consent withdrawals.
PAGE_QUERIES = 21


def page_url(patient) -> str:
    return reverse("clinic:patient_detail", args=[patient.study_id])


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
    services.outcome_record(actor=None, patient=dead, event_type="death", event_date=days_ago(2))
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
    services.adverse_event_record(
        actor=clinician,
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


def serious_ae(patient, **fields: Any) -> None:
    services.adverse_event_record(
        actor=None,
        patient=patient,
        term="Aspiration pneumonia",
        onset_date=days_ago(20),
        ctcae_grade=3,
        serious=True,
        criterion_hospitalisation=True,
        relatedness="not_related",
        **fields,
    )


@pytest.fixture
def cohort(london) -> dict[str, object]:
    """One patient in each follow-up state the filters tell apart."""
    on_time, sae, resolved_sae = followed_patient(london), followed_patient(london), followed_patient(london)
    serious_ae(sae)
    serious_ae(resolved_sae, resolution_date=days_ago(5), outcome="recovered")
    cycle_late = treated_patient(site=london)  # first dose 84 days ago, no cycle recorded
    assess(cycle_late, days_ago(10))
    alsfrsr_late, alsfrsr_soon = treated_patient(site=london), treated_patient(site=london)
    for patient, assessed in ((alsfrsr_late, 100), (alsfrsr_soon, 80)):
        on_schedule(patient, 3)
        assess(patient, days_ago(assessed))
    never_assessed = treated_patient(site=london)  # enrolled 90 days ago: ALSFRS-R due from enrolment
    on_schedule(never_assessed, 3)
    dead, withdrew, consent_withdrawn, lost = (treated_patient(site=london) for _ in range(4))
    services.outcome_record(actor=None, patient=dead, event_type="lost_to_follow_up", event_date=days_ago(30))
    services.outcome_record(actor=None, patient=dead, event_type="death", event_date=days_ago(2))
    services.outcome_record(actor=None, patient=withdrew, event_type="withdrawal", event_date=days_ago(3))
    audited_save(Consent(patient=consent_withdrawn, form_version="v1", consent_date=days_ago(90)), actor=None)
    services.consent_withdraw(
        actor=None,
        patient=consent_withdrawn,
        effective_on=days_ago(1),
        level="no_further_collection",
        reason="Patient's wish",
    )
    services.outcome_record(actor=None, patient=lost, event_type="lost_to_follow_up", event_date=days_ago(4))
    return {
        "on_time": on_time,
        "sae": sae,
        "resolved_sae": resolved_sae,
        "cycle_late": cycle_late,
        "alsfrsr_late": alsfrsr_late,
        "alsfrsr_soon": alsfrsr_soon,
        "never_assessed": never_assessed,
        "dead": dead,
        "withdrew": withdrew,
        "consent_withdrawn": consent_withdrawn,
        "lost": lost,
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"status": "active"},
            ["on_time", "sae", "resolved_sae", "cycle_late", "alsfrsr_late", "alsfrsr_soon", "never_assessed"],
        ),
        ({"status": "deceased"}, ["dead"]),
        ({"status": "withdrawn"}, ["withdrew", "consent_withdrawn"]),
        ({"status": "lost"}, ["lost"]),
        ({"due": "cycle"}, ["cycle_late"]),
        ({"due": "alsfrsr"}, ["alsfrsr_late", "alsfrsr_soon", "never_assessed"]),
        ({"due": "sae"}, ["sae"]),
        (
            {"due": "alsfrsr", "status": "active", "sort": "alsfrsr_due"},
            ["alsfrsr_late", "never_assessed", "alsfrsr_soon"],
        ),
    ],
)
def test_each_filter_finds_exactly_the_patients_whose_row_says_so(clinician_client, cohort, filters, expected):
    rows = clinician_client.get(LIST, filters).context["rows"]
    assert [patient.study_id for patient, _ in rows] == [
        cohort[name].study_id
        for name in (expected if "sort" in filters else sorted(expected, key=lambda n: cohort[n].study_id))
    ]
    for _, due in rows:
        assert due.status == filters.get("status", due.status)
        if filters.get("due") == "cycle":
            assert due.cycle_overdue
        if filters.get("due") == "alsfrsr":
            assert due.alsfrsr_badge in {"due", "overdue"}
        if filters.get("due") == "sae":
            assert due.open_sae


def test_alsfrsr_due_first_lists_patients_out_of_follow_up_last(clinician_client, cohort):
    """By the next ALSFRS-R kept on the enrolment (`next_due`), which follow-up's end clears;
    then by study id."""
    rows = clinician_client.get(LIST, {"sort": "alsfrsr_due"}).context["rows"]

    def by_study_id(*names: str) -> list[str]:
        return sorted(cohort[name].study_id for name in names)

    assert [patient.study_id for patient, _ in rows] == [
        *(cohort[name].study_id for name in ("alsfrsr_late", "never_assessed", "alsfrsr_soon")),
        *by_study_id("on_time", "sae", "resolved_sae", "cycle_late"),  # all assessed 10 days ago
        *by_study_id("dead", "withdrew", "consent_withdrawn", "lost"),
    ]


@pytest.mark.parametrize("deep", [patient_list_module.KeptDateOrder.DEEP, 4])
@pytest.mark.parametrize("page_size", [1, 2, 3, 5])
@pytest.mark.parametrize(
    ("sort", "filters"), [("enrolled", {}), ("alsfrsr_due", {}), ("enrolled", {"status": "active"})]
)
def test_a_date_sort_pages_through_every_patient_once_in_the_one_order(
    cohort, london, clinician, monkeypatch, deep, page_size, sort, filters
):
    """The pages of a sort by a kept date, read in two index walks (`KeptDateOrder`) and from
    row DEEP on by one ORDER BY, are that ORDER BY (date NULLS LAST, study id) cut into pages,
    wherever a page boundary falls."""
    for _ in range(2):
        DiagnosisFactory(patient=PatientFactory(site=london))  # not enrolled: no date at all
    monkeypatch.setattr(patient_list_module, "PAGE_SIZE", page_size)
    monkeypatch.setattr(patient_list_module.KeptDateOrder, "DEEP", deep)
    one_order = list(patient_list(clinician, today=TODAY, sort=sort, **filters).values_list("study_id", flat=True))
    pages, number = [], 1
    while True:
        found = patient_list_page(clinician, today=TODAY, page=number, sort=sort, **filters)
        assert found.page.paginator.count == len(one_order)
        pages.append([patient.study_id for patient, _ in found.rows])
        if not found.page.has_next():
            break
        number += 1
    assert [study_id for page in pages for study_id in page] == one_order
    assert [len(page) for page in pages[:-1]] == [page_size] * (len(pages) - 1)
    active_in_cohort = 7  # as in test_each_filter_finds_exactly_the_patients_whose_row_says_so
    assert len(one_order) == (len(cohort) if not filters else active_in_cohort) + 2


def test_a_date_sorts_ids_read_as_a_sequence_in_the_one_order(cohort, clinician):
    ids = patient_list_page(clinician, today=TODAY, page=1, sort="enrolled").page.paginator.object_list
    one_order = list(patient_list(clinician, today=TODAY, sort="enrolled").values_list("pk", flat=True))
    assert (list(ids), len(ids), ids[3], ids[2:5]) == (one_order, len(one_order), one_order[3], one_order[2:5])


def test_a_page_past_the_end_of_a_date_sort_shows_the_last_patients(cohort, london, clinician, monkeypatch):
    monkeypatch.setattr(patient_list_module, "PAGE_SIZE", 4)
    last = patient_list_page(clinician, today=TODAY, page=99, sort="alsfrsr_due")
    one_order = list(patient_list(clinician, today=TODAY, sort="alsfrsr_due").values_list("study_id", flat=True))
    assert [patient.study_id for patient, _ in last.rows] == one_order[8:]


def test_the_kept_due_dates_agree_with_the_patient_pages_in_every_follow_up_state(cohort, london):
    """The list filters and sorts by the dates `next_due` keeps on the enrolment; the badges come
    from each patient's records (`follow_up`): the same dates in every state, and none for a
    patient assessed but not enrolled."""
    unenrolled = PatientFactory(site=london)
    DiagnosisFactory(patient=unenrolled)
    assess(unenrolled, days_ago(100))
    patients = with_follow_up(Patient.objects.select_related("enrolment__route"))
    states = {patient.study_id: follow_up(patient, TODAY) for patient in patients}
    kept = {
        study_id: (alsfrsr, cycle)
        for study_id, alsfrsr, cycle in Enrolment.objects.values_list(
            "patient__study_id", "next_alsfrsr_due", "next_cycle_due"
        )
    }
    assert len(states) == len(cohort) + 1
    assert {study_id: (due.next_alsfrsr_due, due.next_cycle_due) for study_id, due in states.items()} == {
        **kept,
        unenrolled.study_id: (None, None),
    }


def test_page_two_of_a_filtered_list_keeps_the_filter(clinician_client, london):
    dead = []
    for _ in range(26):
        patient = treated_patient(site=london)
        services.outcome_record(actor=None, patient=patient, event_type="death", event_date=days_ago(2))
        dead.append(patient.study_id)
    treated_patient(site=london)  # alive: on neither page
    first, second = (clinician_client.get(LIST, {"status": "deceased", "page": n}) for n in (1, 2))
    assert [p.study_id for p, _ in first.context["rows"] + second.context["rows"]] == sorted(dead)
    assert "26 patients, page 1 of 2." in first.content.decode()
    assert 'href="?status=deceased&amp;page=2" rel="next"' in first.content.decode()


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


def test_another_sites_patient_gets_the_same_404_page_as_a_patient_who_does_not_exist(clinician_client, sheffield):
    other = treated_patient(site=sheffield)
    absent = clinician_client.get(reverse("clinic:patient_detail", args=["NO-SUCH-PATIENT"]))
    hidden = clinician_client.get(page_url(other))
    assert (hidden.status_code, hidden["Content-Type"], hidden.content) == (
        absent.status_code,
        absent["Content-Type"],
        absent.content,
    )


def test_the_patient_page_shows_chart_stages_and_pnfh_stratum_with_assay(clinician_client, london):
    patient = followed_patient(london)
    services.biomarker_record(
        actor=None,
        patient=patient,
        sample_date=days_ago(80),
        analyte="csf_pnfh",
        reported_value=Decimal("2.1"),
        reported_unit="ng/mL",
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


def test_the_timeline_filters_by_kind_and_dates(clinician_client, london):
    patient = followed_patient(london)
    page = clinician_client.get(page_url(patient), {"kind": "Cycle"})
    assert {entry.kind for entry in page.context["o"].timeline} == {"Cycle"}
    page = clinician_client.get(page_url(patient), {"since": days_ago(30).isoformat()})
    assert all(entry.date >= days_ago(30) for entry in page.context["o"].timeline)
    assert [entry.kind for entry in page.context["o"].timeline].count("Cycle") == 1


def test_a_timeline_range_ending_before_it_starts_is_refused_and_everything_shown(clinician_client, london):
    patient = followed_patient(london)
    page = clinician_client.get(
        page_url(patient), {"since": days_ago(1).isoformat(), "until": days_ago(30).isoformat()}
    )
    assert "is before" in page.content.decode()
    assert len(page.context["o"].timeline) > 3
