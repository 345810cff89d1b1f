"""The analysts' overview: its counting rules, a fixed number of queries, no identifiers,
figures with alt text and their numbers as CSV, and who may open it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pandas as pd
import pytest
from django.test import Client
from django.utils import timezone

from analytics.overview import selectors
from analytics.survival.models import AnalysisRun, RunStatus
from registry import services
from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import IdentityFactory, SiteFactory, UserFactory, days_ago, treated_patient

TODAY = dt.date(2026, 6, 1)


def patient(pk: int, **dates: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(selectors.COHORT_COLUMNS)
    row.update(pk=pk, site="GB-LON", route="nhs_specials")
    row.update({key: pd.Timestamp(value) if isinstance(value, dt.date) else value for key, value in dates.items()})
    return row


def cohort(*rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=selectors.COHORT_COLUMNS)
    for column in selectors.COHORT_COLUMNS[3:]:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def days_before(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


# ---- rules (pure) ------------------------------------------------------------------------------------
def test_a_death_outranks_every_other_status():
    frame = cohort(
        patient(
            1,
            enrolment_date=days_before(300),
            first_dose_date=days_before(290),
            death_date=days_before(5),
            withdrawn_date=days_before(50),
            last_cycle_start=days_before(10),
        )
    )
    assert list(selectors.statuses(frame, TODAY)) == ["died"]


def test_a_cycle_in_the_last_56_days_is_on_treatment_and_an_older_one_is_stopped():
    frame = cohort(
        patient(1, enrolment_date=days_before(300), first_dose_date=days_before(290), last_cycle_start=days_before(56)),
        patient(2, enrolment_date=days_before(300), first_dose_date=days_before(290), last_cycle_start=days_before(57)),
        patient(3, enrolment_date=days_before(30), first_dose_date=days_before(20)),  # first dose, no cycle row yet
    )
    assert list(selectors.statuses(frame, TODAY)) == ["on_treatment", "stopped", "on_treatment"]


def test_untreated_undosed_and_unenrolled_patients_have_their_own_status():
    frame = cohort(
        patient(1, route="none", enrolment_date=days_before(100)),
        patient(2, enrolment_date=days_before(10)),
        patient(3, route=None),
    )
    assert list(selectors.statuses(frame, TODAY)) == ["untreated", "awaiting_first_dose", "not_enrolled"]


def test_every_status_is_listed_even_when_no_patient_has_it():
    counts = selectors.status_counts(cohort(patient(1, route=None)), TODAY)
    assert list(counts["status"]) == list(selectors.STATUSES)
    assert counts.set_index("status")["patients"].to_dict()["not_enrolled"] == 1
    assert counts["patients"].sum() == 1


def test_a_visit_counts_as_done_within_45_days_of_its_target():
    # Enrolled 200 days ago: the windows of visits 0 (day 0) and 1 (day 91) have closed, visit 2's (day 182) is open.
    frame = cohort(patient(1, enrolment_date=days_before(200)), patient(2, enrolment_date=days_before(200)))
    on_day = {1: [0, 91 + 45], 2: [0, 91 + 46]}  # 45 days after visit 1's target; 46 days: 45 before visit 2's
    assessments = pd.DataFrame(
        [(pk, pd.Timestamp(days_before(200 - day))) for pk, days in on_day.items() for day in days],
        columns=["pk", "date"],
    )
    frame["site"] = ["GB-LON", "GB-SHF"]
    table = selectors.visit_completeness(frame, assessments, TODAY).set_index("site")
    assert (table.loc["GB-LON", "expected"], table.loc["GB-LON", "done"]) == (2, 2)
    assert (table.loc["GB-SHF", "expected"], table.loc["GB-SHF", "done"]) == (3, 2)  # visit 1 missed, 2 done early


def test_a_visit_whose_window_is_still_open_counts_only_when_done():
    frame = cohort(patient(1, enrolment_date=days_before(200)))
    assessments = pd.DataFrame(
        {"pk": [1, 1, 1], "date": pd.to_datetime([days_before(200), days_before(109), days_before(18)])}
    )
    row = selectors.visit_completeness(frame, assessments, TODAY).set_index("site").loc["All sites"]
    assert (row["expected"], row["done"], row["percent"]) == (3, 3, 100.0)


def test_follow_up_ends_at_death_so_no_visit_is_expected_after_it():
    # Followed 100 days: visit 0's window closed (day 45); visit 1's (day 91 + 45) was still open at death.
    frame = cohort(patient(1, enrolment_date=days_before(400), death_date=days_before(300)))
    row = selectors.visit_completeness(frame, pd.DataFrame(columns=["pk", "date"]), TODAY).iloc[0]
    assert row["expected"] == 1 and row["done"] == 0 and row["percent"] == 0.0


def test_enrolment_by_month_has_a_point_every_month_for_every_route():
    frame = cohort(
        patient(1, enrolment_date=dt.date(2026, 1, 10)),
        patient(2, route="managed_access", enrolment_date=dt.date(2026, 3, 2)),
    )
    table = selectors.enrolment_by_month(frame, "route")
    assert len(table) == 6  # January to March, two routes
    last = table[table["month"] == dt.date(2026, 3, 1)].set_index("route")["cumulative"].to_dict()
    assert last == {"managed_access": 1, "nhs_specials": 1}


# ---- from the database -------------------------------------------------------------------------------
pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(db):
    client = Client()
    login_with_second_factor(client, UserFactory(username="ana", role=Role.ANALYST))
    return client


def london_patient_with_pnfh(value: str | None) -> object:
    person = treated_patient(site=SiteFactory.create(code="GB-LON"))
    if value is not None:
        services.biomarker_record(
            actor=None,
            patient=person,
            sample_date=days_ago(95),
            analyte="csf_pnfh",
            reported_value=Decimal(value),
            reported_unit="pg/mL",
            assay="Ella",
        )
    return person


def test_pnfh_availability_counts_enrolled_patients_by_route_and_stratum(db):
    for value in ("1800", "5000", None):
        london_patient_with_pnfh(value)
    analyst = UserFactory(username="ana", role=Role.ANALYST)
    data = selectors.overview(analyst, timezone.localdate())
    counts = data.pnfh.set_index(["route", "stratum"])["patients"].to_dict()
    assert counts == {
        ("nhs_specials", "below_750"): 0,
        ("nhs_specials", "low"): 1,
        ("nhs_specials", "high"): 1,
        ("nhs_specials", "missing"): 1,
    }


QUERIES = 8  # the session comes from the cache


def _queries(client, django_assert_num_queries, expected: int) -> None:
    with django_assert_num_queries(expected):
        assert client.get("/analytics/overview/").status_code == 200


def test_the_overview_runs_the_same_queries_however_many_patients(analyst_client, django_assert_num_queries):
    london_patient_with_pnfh("1800")
    analyst_client.get("/analytics/overview/")  # the session's first request writes it; not the page's cost
    # session, user, OTP device, savepoint, cohort, ALSFRS-R dates, pNFH results, last run, savepoint release
    _queries(analyst_client, django_assert_num_queries, QUERIES)
    for value in ("900", "4000", None, "2000"):
        london_patient_with_pnfh(value)
    treated_patient(site=SiteFactory(code="GB-SHF"), route="managed_access")
    _queries(analyst_client, django_assert_num_queries, QUERIES)


def test_the_overview_shows_no_identifiers(analyst_client):
    person = london_patient_with_pnfh("1800")
    IdentityFactory(patient=person, nhs_number="9434765919", given_name="Margaret")
    page = analyst_client.get("/analytics/overview/").content.decode()
    for identifier in (person.study_id, "9434765919", "Margaret", "Testperson"):
        assert identifier not in page


def test_every_figure_has_alt_text_naming_its_numbers(analyst_client):
    london_patient_with_pnfh("1800")
    page = analyst_client.get("/analytics/overview/").content.decode()
    assert page.count('role="img"') == 5
    assert '<title id="status-title">Patients by status: On treatment 0, Stopped treatment 1, Died 0,' in page


def test_the_numbers_behind_a_figure_download_as_csv(analyst_client):
    london_patient_with_pnfh("1800")
    response = analyst_client.get("/analytics/overview/completeness.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Disposition"].startswith('attachment; filename="il2ld_overview_completeness_')
    assert [row["site"] for row in rows] == ["GB-LON", "All sites"]


def test_an_unknown_figure_has_no_csv(analyst_client):
    assert analyst_client.get("/analytics/overview/identities.csv").status_code == 404


def test_a_clinician_is_refused_the_overview(db):
    client = Client()
    login_with_second_factor(
        client, UserFactory(username="cli", role=Role.CLINICIAN, sites=[SiteFactory(code="GB-LON")])
    )
    assert client.get("/analytics/overview/").status_code == 403


def test_the_last_run_shows_when_it_finished_and_its_data_cutoff(analyst_client):
    AnalysisRun.objects.create(
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now() - dt.timedelta(hours=3),
        parameters={"data_cutoff": "2026-05-31"},
    )
    page = analyst_client.get("/analytics/overview/").content.decode()
    assert "3\xa0hours ago" in page and "2026-05-31" in page
