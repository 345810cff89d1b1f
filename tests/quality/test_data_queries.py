"""Data-quality rules raise queries kept with the record; the site answers, the data manager
closes or re-opens, and every step is audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from access_programme.models import TreatmentCycle
from access_programme.models.supply_rules import NO_PRESCRIPTION_RULE
from registry.models import AlsfrsrAssessment, DataQualityRule, DataQuery, Patient, QueryStatus, Role, Severity
from registry.quality import IMPLAUSIBLE_JUMP, MISSING_VISIT, OUT_OF_WINDOW, PNFH_WITHOUT_ASSAY
from registry.services import (
    alsfrsr_record,
    alsfrsr_update,
    biomarker_record,
    data_quality_scan,
    data_query_answer,
    data_query_close,
    data_query_raise,
    data_query_reopen,
    data_query_restate,
    outcome_record,
)
from tests.factories import (
    NORMAL_ALSFRSR_ITEMS,
    CycleFactory,
    DiagnosisFactory,
    PatientFactory,
    SiteFactory,
    UserFactory,
    days_ago,
    treated_patient,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def london():
    return SiteFactory(code="GB-LON")


@pytest.fixture
def clinician(london):
    return UserFactory(username="alice", role=Role.CLINICIAN, sites=[london])


@pytest.fixture
def manager():
    return UserFactory(username="dora", role=Role.DATA_MANAGER)


@pytest.fixture
def patient(london) -> Patient:
    patient: Patient = PatientFactory.create(site=london)
    DiagnosisFactory(patient=patient, symptom_onset_date=days_ago(700), diagnosis_date=days_ago(500))
    return patient


def assess(patient, days: int, actor=None, **items) -> AlsfrsrAssessment:
    return alsfrsr_record(
        actor=actor, patient=patient, assessment_date=days_ago(days), **(NORMAL_ALSFRSR_ITEMS | items)
    )


def queries(rule: str) -> list[DataQuery]:
    return list(DataQuery.objects.filter(rule=rule))


# --- rules ------------------------------------------------------------------------------------


def test_the_rules_are_data_with_a_severity():
    rules = {rule.code: rule.severity for rule in DataQualityRule.objects.all()}
    assert set(rules) == {
        MISSING_VISIT,
        OUT_OF_WINDOW,
        IMPLAUSIBLE_JUMP,
        PNFH_WITHOUT_ASSAY,
        "cycle_missed_doses",
        NO_PRESCRIPTION_RULE,
    }
    assert set(rules.values()) <= set(Severity.values)


def test_a_rise_of_more_than_four_points_between_visits_raises_a_query_on_the_later_visit(patient, clinician):
    assess(patient, 200, clinician, q8_walking=0, q9_climbing_stairs=0)  # 40
    later = assess(patient, 109, clinician)  # 48: +8
    (query,) = queries(IMPLAUSIBLE_JUMP)
    assert (query.record, query.field_name, query.status) == (later, "total", QueryStatus.OPEN)
    assert "rose by 8 points" in query.message


def test_a_fall_faster_than_three_points_a_month_raises_a_query(patient, clinician):
    assess(patient, 200, clinician)  # 48
    assess(patient, 170, clinician, q8_walking=0, q9_climbing_stairs=0)  # 40 within a month
    assert "fell 8.0 points a month" in queries(IMPLAUSIBLE_JUMP)[0].message


def test_an_ordinary_decline_raises_no_query(patient, clinician):
    assess(patient, 200, clinician)
    assess(patient, 109, clinician, q8_walking=2)  # 2 points in 3 months
    assert not queries(IMPLAUSIBLE_JUMP)


def test_a_visit_outside_its_window_raises_a_query_on_its_date(patient, clinician):
    assess(patient, 200, clinician)
    late = assess(patient, 80, clinician)  # 120 days after baseline: 29 days after visit 1
    (query,) = queries(OUT_OF_WINDOW)
    assert (query.record, query.field_name) == (late, "assessment_date")
    assert "29 days late" in query.message


def test_a_visit_within_its_window_raises_no_query(patient, clinician):
    assess(patient, 200, clinician)
    assess(patient, 100, clinician)  # 100 days: 9 days after visit 1
    assert not queries(OUT_OF_WINDOW)


def test_a_pnfh_result_naming_no_assay_raises_a_query_on_the_assay(patient, clinician):
    result = biomarker_record(
        actor=clinician,
        patient=patient,
        sample_date=days_ago(30),
        analyte="csf_pnfh",
        reported_value=Decimal(2000),
        reported_unit="pg/mL",
        assay="unknown",
    )
    (query,) = queries(PNFH_WITHOUT_ASSAY)
    assert (query.record, query.field_name, query.severity) == (result, "assay", Severity.MAJOR)


def test_a_pnfh_assay_outside_the_rule_list_raises_a_query(patient, clinician):
    DataQualityRule.objects.filter(code=PNFH_WITHOUT_ASSAY).update(parameters={"known_assays": ["Ella pNF-H"]})
    biomarker_record(
        actor=clinician,
        patient=patient,
        sample_date=days_ago(30),
        analyte="csf_pnfh",
        reported_value=Decimal(2000),
        reported_unit="pg/mL",
        assay="Home-made ELISA",
    )
    assert "not one the registry recognises" in queries(PNFH_WITHOUT_ASSAY)[0].message


def test_the_nightly_scan_raises_a_query_for_a_patient_with_no_visit_for_four_months(patient, clinician):
    assess(patient, 200, clinician)
    assert data_quality_scan() == 1
    (query,) = queries(MISSING_VISIT)
    assert query.record == patient and "was due by" in query.message


def test_no_visit_is_expected_after_death(patient, clinician):
    assess(patient, 200, clinician)
    outcome_record(actor=clinician, patient=patient, event_type="death", event_date=days_ago(150))
    data_quality_scan()
    assert not queries(MISSING_VISIT)


def test_the_nightly_scan_queries_a_cycle_whose_dosing_days_ended_with_doses_missed():
    patient = treated_patient()
    CycleFactory(patient=patient, days_administered=3, total_dose_miu=Decimal(6))
    data_quality_scan()
    (query,) = queries("cycle_missed_doses")
    assert isinstance(query.record, TreatmentCycle)


def test_a_rule_switched_off_raises_nothing(patient, clinician):
    DataQualityRule.objects.filter(code=IMPLAUSIBLE_JUMP).update(active=False)
    assess(patient, 200, clinician, q8_walking=0, q9_climbing_stairs=0)
    assess(patient, 109, clinician)
    assert not queries(IMPLAUSIBLE_JUMP)


def test_a_query_takes_its_rules_severity(patient, clinician):
    DataQualityRule.objects.filter(code=IMPLAUSIBLE_JUMP).update(severity=Severity.CRITICAL)
    assess(patient, 200, clinician, q8_walking=0, q9_climbing_stairs=0)
    assess(patient, 109, clinician)
    assert queries(IMPLAUSIBLE_JUMP)[0].severity == Severity.CRITICAL


def test_scanning_twice_raises_a_query_once(patient, clinician):
    assess(patient, 200, clinician)
    data_quality_scan()
    assert data_quality_scan() == 0
    assert len(queries(MISSING_VISIT)) == 1


def test_a_closed_query_is_not_raised_again_unless_the_record_changes(patient, clinician, manager):
    assess(patient, 200, clinician, q8_walking=0, q9_climbing_stairs=0)
    later = assess(patient, 109, clinician)
    data_query_close(actor=manager, query=queries(IMPLAUSIBLE_JUMP)[0], reason="Confirmed with the site")
    data_quality_scan()
    assert [q.status for q in queries(IMPLAUSIBLE_JUMP)] == [QueryStatus.CLOSED]
    alsfrsr_update(actor=clinician, record=later, reason="Re-scored", expected_version=None, q1_speech=3)
    assert sorted(q.status for q in queries(IMPLAUSIBLE_JUMP)) == [QueryStatus.CLOSED, QueryStatus.OPEN]


def test_an_open_rule_query_is_restated_when_its_finding_grows_with_the_step_in_its_history(patient, clinician):
    assess(patient, 200, clinician, q8_walking=0, q9_climbing_stairs=0)
    assess(patient, 109, clinician)
    (query,) = queries(IMPLAUSIBLE_JUMP)
    restated = data_query_restate(actor=None, query=query, message="Two jumps.", reason="import alsfrs_r.csv")
    assert restated is not None and DataQuery.objects.get(pk=query.pk).message == "Two jumps."
    latest = query.history.latest("history_date")
    assert (latest.message, latest.history_change_reason) == ("Two jumps.", "import alsfrs_r.csv")


def test_an_answered_query_is_not_restated(patient, clinician):
    assess(patient, 200, clinician, q8_walking=0, q9_climbing_stairs=0)
    assess(patient, 109, clinician)
    (query,) = queries(IMPLAUSIBLE_JUMP)
    was = query.message
    data_query_answer(actor=clinician, query=query, answer="Re-scored: correct.")
    assert data_query_restate(actor=None, query=query, message="Two jumps.", reason="import") is None
    assert DataQuery.objects.get(pk=query.pk).message == was


# --- workflow ---------------------------------------------------------------------------------


def test_a_data_manager_raises_a_query_by_hand_on_a_field(patient, manager, clinician):
    assessment = assess(patient, 30, clinician)
    query = data_query_raise(
        actor=manager, record=assessment, field_name="q8_walking", message="Walking 4 with a stick?"
    )
    assert (query.status, query.rule, query.raised_by, query.patient) == (QueryStatus.OPEN, "", manager, patient)


def test_a_clinician_may_not_raise_a_query(patient, clinician):
    with pytest.raises(PermissionDenied):
        data_query_raise(actor=clinician, record=patient, message="Anything?")


def test_a_query_by_hand_needs_a_question(patient, manager):
    with pytest.raises(ValidationError) as error:
        data_query_raise(actor=manager, record=patient, message="  ")
    assert "question" in error.value.message_dict["message"][0]


def test_a_query_on_a_field_the_record_lacks_is_refused(patient, manager):
    with pytest.raises(ValidationError) as error:
        data_query_raise(actor=manager, record=patient, field_name="shoe_size", message="?")
    assert "no field" in error.value.message_dict["field_name"][0]


def test_the_site_answers_and_the_data_manager_closes_with_every_step_in_the_history(patient, manager, clinician):
    query = data_query_raise(actor=manager, record=patient, message="Year of birth 1930?")
    query = data_query_answer(actor=clinician, query=query, answer="Checked against the notes: correct.")
    assert (query.status, query.answered_by) == (QueryStatus.ANSWERED, clinician)
    query = data_query_close(actor=manager, query=query)
    assert (query.status, query.closed_by) == (QueryStatus.CLOSED, manager)
    steps = [(h.history_user, h.status, h.history_change_reason) for h in query.history.order_by("history_date")]
    assert steps == [
        (manager, "open", "Raised by hand"),
        (clinician, "answered", "Answered: Checked against the notes: correct."),
        (manager, "closed", "Closed"),
    ]


def test_a_clinician_of_another_site_may_not_answer(patient, manager):
    query = data_query_raise(actor=manager, record=patient, message="?")
    stranger = UserFactory(username="bob", role=Role.CLINICIAN, sites=[SiteFactory(code="GB-MAN")])
    with pytest.raises(PermissionDenied):
        data_query_answer(actor=stranger, query=query, answer="x")


def test_an_analyst_may_not_answer(patient, manager):
    query = data_query_raise(actor=manager, record=patient, message="?")
    with pytest.raises(PermissionDenied):
        data_query_answer(actor=UserFactory(username="ada", role=Role.ANALYST), query=query, answer="x")


def test_an_answered_query_cannot_be_answered_again(patient, manager, clinician):
    query = data_query_answer(
        actor=clinician, query=data_query_raise(actor=manager, record=patient, message="?"), answer="yes"
    )
    with pytest.raises(ValidationError, match="only an open query is answered"):
        data_query_answer(actor=clinician, query=query, answer="again")


def test_closing_an_unanswered_query_needs_a_reason(patient, manager):
    query = data_query_raise(actor=manager, record=patient, message="?")
    with pytest.raises(ValidationError) as error:
        data_query_close(actor=manager, query=query)
    assert "not answered" in error.value.message_dict["reason"][0]


def test_only_a_data_manager_closes(patient, manager, clinician):
    query = data_query_answer(
        actor=clinician, query=data_query_raise(actor=manager, record=patient, message="?"), answer="yes"
    )
    with pytest.raises(PermissionDenied):
        data_query_close(actor=clinician, query=query)


def test_a_data_manager_reopens_an_answered_query_with_a_reason(patient, manager, clinician):
    query = data_query_answer(
        actor=clinician, query=data_query_raise(actor=manager, record=patient, message="?"), answer="yes"
    )
    with pytest.raises(ValidationError):
        data_query_reopen(actor=manager, query=query, reason="")
    query = data_query_reopen(actor=manager, query=query, reason="The notes say 1931")
    assert query.status == QueryStatus.OPEN
    assert query.history.latest().history_change_reason == "Re-opened: The notes say 1931"


def test_a_rule_query_cannot_be_reopened_beside_a_newer_open_one(patient, clinician, manager):
    assess(patient, 200, clinician, q8_walking=0, q9_climbing_stairs=0)
    later = assess(patient, 109, clinician)
    first = data_query_close(actor=manager, query=queries(IMPLAUSIBLE_JUMP)[0], reason="ok")
    alsfrsr_update(actor=clinician, record=later, reason="Re-scored", expected_version=None, q1_speech=3)
    with pytest.raises(ValidationError, match="already has an open query"):
        data_query_reopen(actor=manager, query=first, reason="again")


def test_the_scan_is_scheduled_nightly_as_a_registered_celery_task(patient, clinician):
    from django.conf import settings

    from config.celery import app
    from registry.tasks import data_quality_scan_task

    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == data_quality_scan_task.name]
    assert entry["schedule"].hour == {1}
    assess(patient, 200, clinician)
    app.loader.import_default_modules()
    assert app.tasks[data_quality_scan_task.name].apply().get() == 1
