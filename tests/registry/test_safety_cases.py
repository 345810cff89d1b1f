"""Safety reporting: a serious adverse event opens a case whose clock is its route's, runs from
awareness, and stops at the report sent; follow-ups are numbered; SUSAR clocks when the company
is sponsor; the ICSR and the line listing carry the case."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from registry import services
from registry.icsr import LINE_LISTING_HEADER, icsr_document, line_listing_rows
from registry.models import (
    AdverseEvent,
    CaseStatus,
    Expectedness,
    Notification,
    Patient,
    Role,
    SafetyCase,
    SafetyReport,
    User,
)
from registry.services.pharmacovigilance import (
    safety_case_assess,
    safety_case_close,
    safety_report_record,
)
from tests.factories import PatientFactory, SiteFactory, UserFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def london_clinician() -> User:
    return UserFactory.create(role=Role.CLINICIAN, sites=[SiteFactory.create(code="GB-LON")])


def serious(patient: Patient, aware_at: dt.datetime | None = None, **overrides: Any) -> AdverseEvent:
    fields: dict[str, Any] = {
        "term": "Cellulitis at injection site",
        "onset_date": days_ago(3),
        "ctcae_grade": 3,
        "serious": True,
        "criterion_hospitalisation": True,
        "relatedness": "probable",
        "outcome": "recovering",
    }
    return services.adverse_event_record(actor=None, patient=patient, aware_at=aware_at, **{**fields, **overrides})


def an_hour_ago() -> dt.datetime:
    return timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)


def test_a_serious_event_on_the_map_opens_a_case_due_to_the_company_24_hours_from_awareness():
    aware = an_hour_ago()
    case = serious(treated_patient(route="managed_access"), aware_at=aware).safety_case
    assert case.route_code == "managed_access"
    assert case.initial_due_at == aware + dt.timedelta(hours=24)
    assert case.clock.recipient == "company"
    assert case.status == CaseStatus.OPEN


def test_a_serious_event_on_specials_is_due_to_the_yellow_card_as_soon_as_possible():
    case = serious(treated_patient(route="nhs_specials")).safety_case
    assert case.initial_due_at is None
    assert case.clock.recipient == "yellow_card"
    assert case.clock.unlicensed


def test_awareness_defaults_to_the_moment_the_registry_learns_of_the_event():
    before = timezone.now()
    case = serious(treated_patient()).safety_case
    assert before <= case.aware_at <= timezone.now()


def test_a_non_serious_event_opens_no_case():
    event = serious(treated_patient(), serious=False, criterion_hospitalisation=False, ctcae_grade=2)
    assert not SafetyCase.objects.filter(adverse_event=event).exists()


def test_an_event_made_serious_on_review_opens_its_case_once():
    event = serious(treated_patient(), serious=False, criterion_hospitalisation=False, ctcae_grade=2)
    for reason in ("Admitted to hospital", "Grade confirmed"):
        event = services.adverse_event_update(
            actor=None,
            record=event,
            reason=reason,
            expected_version=event.version,
            serious=True,
            criterion_hospitalisation=True,
            ctcae_grade=3,
        )
    assert SafetyCase.objects.filter(adverse_event=event).count() == 1


def test_the_case_opening_is_in_the_audit_trail_with_who_opened_it(london_clinician):
    patient = treated_patient(site=london_clinician.sites.get())
    event = services.adverse_event_record(
        actor=london_clinician,
        patient=patient,
        term="Pneumonia",
        onset_date=days_ago(2),
        ctcae_grade=3,
        serious=True,
        criterion_hospitalisation=True,
        relatedness="unlikely",
    )
    history = event.safety_case.history.get()
    assert (history.history_user, history.history_change_reason) == (
        london_clinician,
        "Opened: the adverse event became serious",
    )


def test_awareness_before_onset_is_refused_and_nothing_is_saved():
    patient = treated_patient()
    with pytest.raises(ValidationError, match="Awareness cannot precede the event's onset"):
        serious(patient, aware_at=timezone.now() - dt.timedelta(days=10))
    assert not AdverseEvent.objects.filter(patient=patient).exists()


def test_awareness_in_the_future_is_refused():
    with pytest.raises(ValidationError, match="in the future"):
        serious(treated_patient(), aware_at=timezone.now() + dt.timedelta(days=2))


def test_an_untreated_patient_has_a_case_but_no_product_report_due():
    patient = PatientFactory.create()
    case = serious(patient).safety_case
    assert (case.route_code, case.clock.recipient, case.initial_due_at) == ("", "", None)


def test_every_data_manager_is_notified_in_the_app(django_capture_on_commit_callbacks):
    manager = UserFactory.create(role=Role.DATA_MANAGER)
    UserFactory.create(role=Role.CLINICIAN)
    case = serious(treated_patient(route="managed_access")).safety_case
    note = Notification.objects.get()
    assert note.user == manager
    assert note.link == f"/safety/cases/{case.pk}/"
    assert "by " in note.body and "24 h from awareness" in note.body


def _notify_events(count: int) -> int:
    """Queries to raise the alerts of `count` serious events at once, as an import does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.services import sae_alerts_raise

    patient = treated_patient(route="managed_access")
    events = [
        AdverseEvent.objects.create(
            patient=patient,
            term=f"Event {n}",
            onset_date=days_ago(3),
            ctcae_grade=3,
            serious=True,
            criterion_hospitalisation=True,
            relatedness="probable",
        )
        for n in range(count)
    ]
    with CaptureQueriesContext(connection) as queries:
        sae_alerts_raise(actor=None, adverse_events=events)
    return len(queries)


def test_alerts_raised_together_notify_each_data_manager_once_per_event_in_a_few_queries():
    managers = UserFactory.create_batch(2, role=Role.DATA_MANAGER)
    few = _notify_events(2)
    many = _notify_events(12)
    assert many == few
    for manager in managers:
        notes = Notification.objects.filter(user=manager)
        assert sorted(n.subject.rsplit(" – ", 1)[1] for n in notes) == sorted(
            [f"Event {n}" for n in range(2)] + [f"Event {n}" for n in range(12)]
        )
        cases = set(SafetyCase.objects.values_list("pk", flat=True))
        assert {int(n.link.strip("/").rsplit("/", 1)[1]) for n in notes} == cases


def test_a_case_becomes_overdue_when_its_limit_passes_unreported():
    case = serious(treated_patient(route="managed_access"), aware_at=an_hour_ago()).safety_case
    assert not case.is_overdue(timezone.now())
    assert case.is_overdue(timezone.now() + dt.timedelta(hours=24))


# --- assessment and SUSAR clocks ---------------------------------------------------------


def test_correcting_awareness_moves_the_clock():
    case = serious(treated_patient(route="managed_access")).safety_case
    earlier = an_hour_ago() - dt.timedelta(hours=5)
    case = safety_case_assess(
        actor=None, record=case, reason="Site phoned on Monday", expected_version=case.version, aware_at=earlier
    )
    assert case.initial_due_at == earlier + dt.timedelta(hours=24)


def test_an_unexpected_suspected_life_threatening_reaction_on_a_sponsor_route_has_the_7_and_8_day_clocks():
    aware = an_hour_ago()
    event = serious(
        treated_patient(route="managed_access"), aware_at=aware, ctcae_grade=4, criterion_life_threatening=True
    )
    case = safety_case_assess(
        actor=None,
        record=event.safety_case,
        reason="Reviewed",
        expected_version=1,
        expectedness=Expectedness.UNEXPECTED,
    )
    assert case.is_susar
    assert case.susar_due_at() == aware + dt.timedelta(days=7)
    assert case.susar_follow_up_due_at() == aware + dt.timedelta(days=15)


def test_other_susars_on_a_sponsor_route_are_due_in_15_days_with_no_follow_up_clock():
    aware = an_hour_ago()
    case = serious(treated_patient(route="managed_access"), aware_at=aware).safety_case
    case = safety_case_assess(
        actor=None, record=case, reason="Reviewed", expected_version=1, expectedness=Expectedness.UNEXPECTED
    )
    assert case.susar_due_at() == aware + dt.timedelta(days=15)
    assert case.susar_follow_up_due_at() is None


def test_an_expected_or_unrelated_reaction_is_no_susar():
    case = serious(treated_patient(route="managed_access"), relatedness="not_related").safety_case
    case = safety_case_assess(
        actor=None, record=case, reason="Reviewed", expected_version=1, expectedness=Expectedness.UNEXPECTED
    )
    assert not case.is_susar and case.susar_due_at() is None


def test_specials_track_no_sponsor_clock():
    case = serious(treated_patient(route="nhs_specials")).safety_case
    case = safety_case_assess(
        actor=None, record=case, reason="Reviewed", expected_version=1, expectedness=Expectedness.UNEXPECTED
    )
    assert case.is_susar and case.susar_due_at() is None


def test_an_assessment_needs_a_reason_and_the_loaded_version():
    case = serious(treated_patient()).safety_case
    with pytest.raises(ValidationError, match="reason for change"):
        safety_case_assess(actor=None, record=case, reason="", expected_version=1, narrative="x")
    with pytest.raises(ValidationError, match="changed"):
        safety_case_assess(actor=None, record=case, reason="r", expected_version=7, narrative="x")


def test_a_pharmacist_may_not_assess_a_case():
    case = serious(treated_patient()).safety_case
    pharmacist = UserFactory.create(role=Role.PHARMACIST, sites=[case.adverse_event.patient.site])
    with pytest.raises(PermissionDenied):
        safety_case_assess(actor=pharmacist, record=case, reason="r", expected_version=1, narrative="x")


# --- reports -----------------------------------------------------------------------------


def send(case: SafetyCase, **overrides: Any) -> SafetyReport:
    fields: dict[str, Any] = {
        "sent_at": timezone.now().replace(microsecond=0),
        "reference": "GB-MHRA-ADR 12345678",
        "narrative": "Admitted with cellulitis on day 3 of cycle 2; IV antibiotics; recovering.",
        "outcome": "recovering",
        "unlicensed_stated": True,
    }
    return safety_report_record(actor=None, case=case, **{**fields, **overrides})


def test_the_first_report_sent_stops_the_clock_and_keeps_its_reference():
    case = serious(treated_patient(route="managed_access"), aware_at=an_hour_ago()).safety_case
    report = send(case, reference="ILT-2026-0042")
    case.refresh_from_db()
    assert (report.sequence, report.recipient, report.reference) == (0, "company", "ILT-2026-0042")
    assert case.status == CaseStatus.REPORTED
    assert not case.is_overdue(timezone.now() + dt.timedelta(days=2))


def test_follow_up_reports_are_numbered_in_order():
    case = serious(treated_patient()).safety_case
    sequences = [send(case, reference=f"ref-{n}").sequence for n in range(3)]
    assert sequences == [0, 1, 2]
    assert [r.kind for r in case.reports.all()] == ["Initial", "Follow-up 1", "Follow-up 2"]


def test_a_yellow_card_for_a_special_must_say_the_product_is_unlicensed():
    case = serious(treated_patient(route="nhs_specials")).safety_case
    with pytest.raises(ValidationError, match="unlicensed: the report must say so"):
        send(case, unlicensed_stated=False)
    assert not case.reports.exists()


def test_a_report_needs_its_reference():
    case = serious(treated_patient()).safety_case
    with pytest.raises(ValidationError, match="reference the recipient gave"):
        send(case, reference="  ")


def test_a_report_cannot_be_sent_before_awareness():
    case = serious(treated_patient(), aware_at=an_hour_ago()).safety_case
    with pytest.raises(ValidationError, match="before the site was aware"):
        send(case, sent_at=an_hour_ago() - dt.timedelta(hours=1))


def test_a_case_closes_only_once_reported():
    case = serious(treated_patient()).safety_case
    with pytest.raises(ValidationError, match="Send the initial report"):
        safety_case_close(actor=None, case=case, reason="Done", expected_version=case.version)
    send(case)
    case.refresh_from_db()
    case = safety_case_close(actor=None, case=case, reason="Final outcome reported", expected_version=case.version)
    assert case.status == CaseStatus.CLOSED
    with pytest.raises(ValidationError, match="closed"):
        send(case)


def test_an_untreated_patients_case_closes_without_a_report():
    case = serious(PatientFactory.create()).safety_case
    case = safety_case_close(actor=None, case=case, reason="No product given", expected_version=case.version)
    assert case.status == CaseStatus.CLOSED


# --- structured output -------------------------------------------------------------------


def test_the_icsr_carries_the_e2b_elements_of_the_case():
    patient = treated_patient(route="nhs_specials")
    case = serious(patient, aware_at=an_hour_ago(), meddra_llt_code="10007882").safety_case
    send(case, reference="YC-0001")
    icsr = icsr_document(case)
    assert icsr["C.1.1"] == case.case_number
    assert icsr["C.1.8.1"] == "YC-0001"
    assert icsr["D.1"] == patient.study_id
    assert icsr["D.5"] == 2
    assert (icsr["E.i.1.1a"], icsr["E.i.2.1b"]) == ("Cellulitis at injection site", "10007882")
    assert icsr["E.i.3.2c"] is True and icsr["E.i.3.2a"] is False
    assert icsr["E.i.7"] == 2
    assert "Unlicensed" in icsr["G.k.11"]
    assert icsr["H.1"].startswith("Admitted with cellulitis")


def test_the_icsr_holds_no_direct_identifier():
    from tests.factories import IdentityFactory

    patient = treated_patient()
    IdentityFactory(patient=patient)
    text = repr(icsr_document(serious(patient).safety_case))
    assert "Margaret" not in text and "9434765919" not in text


def test_the_line_listing_has_one_row_per_case_in_the_header_order():
    case = serious(treated_patient(route="managed_access")).safety_case
    send(case, reference="ILT-1")
    send(case, reference="ILT-1-FU1")
    (row,) = line_listing_rows(SafetyCase.objects.all())
    listed = dict(zip(LINE_LISTING_HEADER, row, strict=True))
    assert listed["case_number"] == case.case_number
    assert listed["route"] == "managed_access"
    assert listed["seriousness_criteria"] == "hospitalisation"
    assert (listed["report_reference"], listed["follow_ups"]) == ("ILT-1", 1)
