"""Validation rules for clinical records: each gives a clear message a clinician can act on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from registry import services
from registry.models import AdverseEvent, AlsfrsrAssessment, BiomarkerResult, Consent
from registry.scoring import ITEM_FIELDS, Q5A, Q5B
from tests.factories import TODAY, DiagnosisFactory, PatientFactory, days_ago, treated_patient

pytestmark = [pytest.mark.requirement("DAT-01"), pytest.mark.django_db]

NORMAL_ITEMS: dict[str, int | None] = dict.fromkeys(ITEM_FIELDS, 4) | {Q5B: None}


def record(patient, when=None, **overrides):
    return services.alsfrsr_record(
        actor=None, patient=patient, assessment_date=when or days_ago(10), **{**NORMAL_ITEMS, **overrides}
    )


def messages(error: ValidationError) -> str:
    return " ".join(m for msgs in error.message_dict.values() for m in msgs)


def test_alsfrsr_totals_subscores_and_stages_are_derived_on_save():
    patient = treated_patient()
    saved = record(patient, q1_speech=2, q3_swallowing=3, q8_walking=1, q12_respiratory_insufficiency=3)
    saved.refresh_from_db()
    assert (saved.total, saved.bulbar, saved.fine_motor, saved.gross_motor, saved.respiratory) == (41, 9, 12, 9, 11)
    assert saved.kings_stage == "4B"  # any NIV use (item 12 < 4)
    assert saved.mitos_stage == 1  # walking lost


def test_alsfrsr_delta_fs_uses_months_from_symptom_onset():
    patient = PatientFactory()
    DiagnosisFactory(
        patient=patient, symptom_onset_date=days_ago(609), diagnosis_date=days_ago(300), riluzole_start_date=None
    )
    saved = record(patient, when=TODAY, q8_walking=0, q9_climbing_stairs=0, q7_turning_in_bed=2)  # total 38
    assert saved.total == 38
    assert saved.delta_fs == Decimal("0.500")  # 10 points over 609 days (20.0 months)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        pytest.param({"q1_speech": 5}, "q1_speech", (), id="item above four"),
        pytest.param({"q1_speech": -1}, "q1_speech", (), id="item below zero"),
        pytest.param({Q5B: 3}, NON_FIELD_ERRORS, ("5a", "5b", "not both"), id="both 5a and 5b"),
        pytest.param({Q5A: None}, NON_FIELD_ERRORS, ("5a", "5b"), id="neither 5a nor 5b"),
    ],
)
def test_an_alsfrsr_item_out_of_range_or_the_wrong_item_5_is_refused(overrides, field, words):
    patient = treated_patient()
    with pytest.raises(ValidationError) as error:
        record(patient, **overrides)
    assert field in error.value.message_dict
    assert all(word in " ".join(error.value.message_dict[field]) for word in words)
    assert not AlsfrsrAssessment.objects.filter(patient=patient).exists()


def test_second_alsfrsr_on_the_same_day_is_refused():
    patient = treated_patient()
    record(patient, when=days_ago(5))
    with pytest.raises(ValidationError):
        record(patient, when=days_ago(5))
    assert AlsfrsrAssessment.objects.filter(patient=patient).count() == 1


def test_assessment_dated_in_the_future_is_refused():
    with pytest.raises(ValidationError) as error:
        record(treated_patient(), when=TODAY + dt.timedelta(days=1))
    assert "future" in messages(error.value)


def test_diagnosis_before_symptom_onset_is_refused():
    with pytest.raises(ValidationError) as error:
        DiagnosisFactory(symptom_onset_date=days_ago(100), diagnosis_date=days_ago(200))
    assert "diagnosis_date" in error.value.message_dict


def test_nothing_can_be_recorded_after_death():
    patient = treated_patient()
    services.outcome_record(actor=None, patient=patient, event_type="death", event_date=days_ago(20))
    with pytest.raises(ValidationError) as error:
        record(patient, when=days_ago(10))
    assert "died" in messages(error.value)
    with pytest.raises(ValidationError):
        services.biomarker_record(
            actor=None,
            patient=patient,
            sample_date=days_ago(5),
            analyte="serum_nfl",
            reported_value=Decimal(80),
            reported_unit="pg/mL",
            assay="Simoa",
        )


def test_a_second_death_is_refused():
    patient = treated_patient()
    services.outcome_record(actor=None, patient=patient, event_type="death", event_date=days_ago(20))
    with pytest.raises(ValidationError) as error:
        services.outcome_record(actor=None, patient=patient, event_type="death", event_date=days_ago(19))
    assert "already recorded" in messages(error.value)


def test_death_dated_before_existing_records_is_refused():
    patient = treated_patient()
    record(patient, when=days_ago(10))
    with pytest.raises(ValidationError) as error:
        services.outcome_record(actor=None, patient=patient, event_type="death", event_date=days_ago(30))
    assert "after this date of death" in messages(error.value)


def biomarker(patient, **overrides):
    fields = {
        "sample_date": days_ago(30),
        "analyte": "csf_pnfh",
        "reported_value": Decimal(3000),
        "reported_unit": "pg/mL",
        "assay": "Ella pNF-H",
    }
    return services.biomarker_record(actor=None, patient=patient, **{**fields, **overrides})


def test_biomarker_in_ng_per_ml_is_stored_in_pg_per_ml_with_the_original_kept():
    result = biomarker(treated_patient(), reported_value=Decimal("2.5"), reported_unit="ng/mL")
    result.refresh_from_db()
    assert (result.value, result.unit) == (Decimal("2500.0000"), "pg/mL")
    assert (result.reported_value, result.reported_unit) == (Decimal("2.5000"), "ng/mL")


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        pytest.param(
            {"reported_value": Decimal(3), "reported_unit": "%"},
            "reported_unit",
            ("pg/mL",),
            id="unit not accepted for the analyte",
        ),
        pytest.param({"assay": "  "}, "assay", (), id="no assay"),
        pytest.param(
            {"analyte": "treg_percent_cd4", "reported_value": Decimal(101), "reported_unit": "%", "assay": "Flow"},
            None,
            ("100",),
            id="Treg percentage above 100",
        ),
        pytest.param({"reported_value": Decimal(-1)}, "value", (), id="negative value"),
    ],
)
def test_a_biomarker_result_that_cannot_be_right_is_refused(overrides, field, words):
    patient = treated_patient()
    with pytest.raises(ValidationError) as error:
        biomarker(patient, **overrides)
    assert field is None or field in error.value.message_dict
    assert all(word in messages(error.value) for word in words)
    assert not BiomarkerResult.objects.filter(patient=patient).exists()


def ae(patient, **overrides):
    fields = {
        "term": "Injection site reaction",
        "onset_date": days_ago(30),
        "ctcae_grade": 1,
        "relatedness": "probable",
        "outcome": "recovered",
        "resolution_date": days_ago(25),
    }
    return services.adverse_event_record(actor=None, patient=patient, **{**fields, **overrides})


def test_seriousness_is_independent_of_severity_grade():
    saved = ae(treated_patient(), ctcae_grade=1, serious=True, criterion_hospitalisation=True)
    assert saved.serious and saved.ctcae_grade == 1 and saved.seriousness_criteria == ["hospitalisation"]


FATAL = {"ctcae_grade": 5, "outcome": "fatal", "resolution_date": None}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"serious": True}, "serious", id="serious without a criterion"),
        pytest.param({"criterion_hospitalisation": True}, "serious", id="a criterion but not serious"),
        pytest.param(
            {"ctcae_grade": 5, "serious": True, "criterion_death": True, "outcome": "recovered"},
            "outcome",
            id="grade 5 without a fatal outcome",
        ),
        pytest.param(
            {**FATAL, "serious": True, "criterion_hospitalisation": True},
            "criterion_death",
            id="grade 5 without the death criterion",
        ),
        pytest.param({"resolution_date": days_ago(40)}, "resolution_date", id="resolving before onset"),
        pytest.param({"meddra_llt_code": "1234"}, "meddra_llt_code", id="MedDRA code not of eight digits"),
    ],
)
def test_an_adverse_event_breaking_a_rule_is_refused_on_the_field_to_correct(overrides, field):
    patient = treated_patient()
    with pytest.raises(ValidationError) as error:
        ae(patient, **overrides)
    assert field in error.value.message_dict
    assert not AdverseEvent.objects.filter(patient=patient).exists()


def test_consent_withdrawal_before_consent_is_refused():
    patient = treated_patient()
    services.audited_save(Consent(patient=patient, form_version="v1", consent_date=days_ago(90)), actor=None)
    with pytest.raises(ValidationError, match="Withdrawal cannot precede consent"):
        services.consent_withdraw(
            actor=None,
            patient=patient,
            effective_on=days_ago(100),
            level="no_further_collection",
            reason="moved abroad",
        )
