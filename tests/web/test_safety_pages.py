"""The safety pages: a serious event leads to its case, the clock is shown, reports are recorded,
the dashboard lists what is open and overdue, the ICSR and the line listing download."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.models import AdverseEvent, CaseStatus, Notification, SafetyCase
from tests.conftest import login_with_second_factor
from tests.factories import days_ago, treated_patient


def manager_client(user) -> Client:
    client = Client()
    login_with_second_factor(client, user)
    return client


pytestmark = pytest.mark.django_db


def sae(patient, aware_at=None) -> AdverseEvent:
    return services.adverse_event_record(
        actor=None,
        patient=patient,
        aware_at=aware_at,
        term="Cellulitis at injection site",
        onset_date=days_ago(2),
        ctcae_grade=3,
        serious=True,
        criterion_hospitalisation=True,
        relatedness="probable",
        outcome="recovering",
    )


def minute(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_a_serious_event_entered_on_the_web_opens_its_case_from_the_awareness_given(
    clinician, clinician_client, london
):
    patient = treated_patient(site=london, route="managed_access")
    aware = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=3)
    response = clinician_client.post(
        reverse("clinic:adverse_event_create", args=[patient.study_id]),
        {
            "term": "Pneumonia",
            "onset_date": days_ago(1).isoformat(),
            "ctcae_grade": "3",
            "serious": "on",
            "criterion_hospitalisation": "on",
            "relatedness": "unlikely",
            "action_taken": "interrupted",
            "outcome": "recovering",
            "aware_at": minute(aware),
        },
    )
    case = SafetyCase.objects.get(adverse_event__patient=patient)
    assert response.url == reverse("clinic:safety_case", args=[case.pk])
    assert case.aware_at == aware
    assert case.initial_due_at == aware + dt.timedelta(hours=24)


def test_the_case_page_shows_the_clock_and_records_the_report_sent(clinician_client, london):
    case = sae(treated_patient(site=london, route="managed_access")).safety_case
    url = reverse("clinic:safety_case", args=[case.pk])
    assert "left" in clinician_client.get(url).content.decode()
    response = clinician_client.post(
        reverse("clinic:safety_report_create", args=[case.pk]),
        {
            "sent_at": minute(timezone.now()),
            "reference": "ILT-2026-0042",
            "outcome": "recovering",
            "narrative": "Admitted with cellulitis; IV antibiotics.",
            "unlicensed_stated": "on",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORTED
    assert "ILT-2026-0042" in clinician_client.get(url).content.decode()


def test_a_report_without_its_reference_is_refused_with_the_form_kept(clinician_client, london):
    case = sae(treated_patient(site=london)).safety_case
    response = clinician_client.post(
        reverse("clinic:safety_report_create", args=[case.pk]),
        {"sent_at": minute(timezone.now()), "reference": "", "outcome": "recovering", "narrative": "Kept text"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kept text" in page and "This field is required." in page
    assert not case.reports.exists()


def test_a_yellow_card_not_stating_the_unlicensed_product_is_refused(clinician_client, london):
    case = sae(treated_patient(site=london, route="nhs_specials")).safety_case
    response = clinician_client.post(
        reverse("clinic:safety_report_create", args=[case.pk]),
        {"sent_at": minute(timezone.now()), "reference": "YC-1", "outcome": "recovering", "narrative": "N"},
    )
    assert "the report must say so" in response.content.decode()


def test_the_assessment_is_saved_with_its_reason(clinician_client, london):
    case = sae(treated_patient(site=london)).safety_case
    response = clinician_client.post(
        reverse("clinic:safety_case", args=[case.pk]),
        {
            "aware_at": minute(case.aware_at),
            "causality": "possible",
            "expectedness": "unexpected",
            "narrative": "Day 3 of cycle 2.",
            "version": case.version,
            "change_reason": "Safety review",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.expectedness, case.narrative) == ("unexpected", "Day 3 of cycle 2.")
    assert case.history.first().history_change_reason == "Safety review"


def test_the_dashboard_lists_open_cases_with_the_overdue_first_counted(data_manager, london):
    late = sae(treated_patient(site=london, route="managed_access"), aware_at=timezone.now() - dt.timedelta(hours=30))
    sae(treated_patient(site=london, route="nhs_specials"))
    page = manager_client(data_manager).get(reverse("clinic:safety_dashboard")).content.decode()
    assert "1 overdue" in page
    assert page.index(late.safety_case.case_number) < page.index("As soon as possible")
    assert "Overdue by" in page


def test_the_icsr_downloads_as_json_by_e2b_element(clinician_client, london):
    case = sae(treated_patient(site=london)).safety_case
    response = clinician_client.get(reverse("clinic:safety_case_icsr", args=[case.pk]))
    assert response["Content-Disposition"].endswith(f'{case.case_number}.icsr.json"')
    assert json.loads(response.content)["C.1.1"] == case.case_number


def test_the_line_listing_is_a_csv_of_the_routes_cases_in_the_period(data_manager, london):
    on_map = sae(treated_patient(site=london, route="managed_access")).safety_case
    sae(treated_patient(site=london, route="nhs_specials"))
    today = timezone.localdate().isoformat()
    response = manager_client(data_manager).get(
        reverse("analytics:sae-line-listing"), {"route": "managed_access", "start": today, "end": today}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["case_number"] for row in rows] == [on_map.case_number]


def test_a_line_listing_period_that_ends_before_it_starts_is_refused(data_manager):
    response = manager_client(data_manager).get(
        reverse("analytics:sae-line-listing"), {"start": "2026-05-01", "end": "2026-04-01"}
    )
    assert response.status_code == 400


def test_a_notification_opens_its_case_and_is_marked_read(data_manager, london):
    case = sae(treated_patient(site=london)).safety_case
    note = Notification.objects.get(user=data_manager)
    client = manager_client(data_manager)
    assert "Notifications" in client.get(reverse("clinic:notifications")).content.decode()
    response = client.post(reverse("clinic:notification_open", args=[note.pk]))
    assert response.url == reverse("clinic:safety_case", args=[case.pk])
    note.refresh_from_db()
    assert note.read_at is not None


def test_someone_elses_notification_is_not_found(clinician_client, data_manager, london):
    sae(treated_patient(site=london))
    note = Notification.objects.get(user=data_manager)
    assert clinician_client.post(reverse("clinic:notification_open", args=[note.pk])).status_code == 404
