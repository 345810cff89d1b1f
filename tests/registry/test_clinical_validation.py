"""Validation rules for clinical records: each gives a clear message a clinician can act on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import AlsfrsrAssessment, Consent
from tests.factories import TODAY, DiagnosisFactory, PatientFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db

NORMAL_ITEMS = {
    "q1_speech": 4,
    "q2_salivation": 4,
    "q3_swallowing": 4,
    "q4_handwriting": 4,
    "q5a_cutting_without_gastrostomy": 4,
    "q5b_cutting_with_gastrostomy": None,
    "q6_dressing_hygiene": 4,
    "q7_turning_in_bed": 4,
    "q8_walking": 4,
    "q9_climbing_stairs": 4,
    "q10_dyspnoea": 4,
    "q11_orthopnoea": 4,
    "q12_respiratory_insufficiency": 4,
}


def record(patient, when=None, **overrides):
    return services.alsfrsr_record(
        user=None, patient=patient, assessment_date=when or days_ago(10), **{**NORMAL_ITEMS, **overrides}
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


def test_alsfrsr_item_above_four_is_refused():
    with pytest.raises(ValidationError) as error:
        record(treated_patient(), q1_speech=5)
    assert "q1_speech" in error.value.message_dict


def test_alsfrsr_with_both_5a_and_5b_is_refused():
    with pytest.raises(ValidationError) as error:
        record(treated_patient(), q5b_cutting_with_gastrostomy=3)
    assert "5a" in messages(error.value) and "5b" in messages(error.value)


def test_alsfrsr_with_neither_5a_nor_5b_is_refused():
    with pytest.raises(ValidationError):
        record(treated_patient(), q5a_cutting_without_gastrostomy=None)


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
    services.event_record(user=None, patient=patient, event_type="death", event_date=days_ago(20))
    with pytest.raises(ValidationError) as error:
        record(patient, when=days_ago(10))
    assert "died" in messages(error.value)
    with pytest.raises(ValidationError):
        services.biomarker_record(
            user=None,
            patient=patient,
            sample_date=days_ago(5),
            analyte="serum_nfl",
            value=Decimal(80),
            unit="pg/mL",
            assay="Simoa",
        )


def test_a_second_death_is_refused():
    patient = treated_patient()
    services.event_record(user=None, patient=patient, event_type="death", event_date=days_ago(20))
    with pytest.raises(ValidationError) as error:
        services.event_record(user=None, patient=patient, event_type="death", event_date=days_ago(19))
    assert "already recorded" in messages(error.value)


def test_death_dated_before_existing_records_is_refused():
    patient = treated_patient()
    record(patient, when=days_ago(10))
    with pytest.raises(ValidationError) as error:
        services.event_record(user=None, patient=patient, event_type="death", event_date=days_ago(30))
    assert "after this date of death" in messages(error.value)


def test_biomarker_in_ng_per_ml_is_stored_in_pg_per_ml_with_the_original_kept():
    result = services.biomarker_record(
        user=None,
        patient=treated_patient(),
        sample_date=days_ago(30),
        analyte="csf_pnfh",
        value=Decimal("2.5"),
        unit="ng/mL",
        assay="Ella pNF-H",
    )
    result.refresh_from_db()
    assert (result.value, result.unit) == (Decimal("2500.0000"), "pg/mL")
    assert (result.reported_value, result.reported_unit) == (Decimal("2.5000"), "ng/mL")


def test_biomarker_in_a_unit_not_accepted_for_its_analyte_is_refused():
    with pytest.raises(ValidationError) as error:
        services.biomarker_record(
            user=None,
            patient=treated_patient(),
            sample_date=days_ago(30),
            analyte="csf_pnfh",
            value=Decimal(3),
            unit="%",
            assay="Ella",
        )
    assert "pg/mL" in messages(error.value)


def test_biomarker_without_assay_is_refused():
    with pytest.raises(ValidationError) as error:
        services.biomarker_record(
            user=None,
            patient=treated_patient(),
            sample_date=days_ago(30),
            analyte="csf_pnfh",
            value=Decimal(3000),
            unit="pg/mL",
            assay="  ",
        )
    assert "assay" in error.value.message_dict


def test_treg_percentage_above_100_is_refused():
    with pytest.raises(ValidationError):
        services.biomarker_record(
            user=None,
            patient=treated_patient(),
            sample_date=days_ago(30),
            analyte="treg_percent_cd4",
            value=Decimal(101),
            unit="%",
            assay="Flow",
        )


def ae(patient, **overrides):
    fields = {
        "term": "Injection site reaction",
        "onset_date": days_ago(30),
        "ctcae_grade": 1,
        "relatedness": "probable",
        "outcome": "recovered",
        "resolution_date": days_ago(25),
    }
    return services.adverse_event_record(user=None, patient=patient, **{**fields, **overrides})


def test_serious_adverse_event_needs_a_seriousness_criterion():
    with pytest.raises(ValidationError) as error:
        ae(treated_patient(), serious=True)
    assert "criterion" in messages(error.value)


def test_seriousness_is_independent_of_severity_grade():
    saved = ae(treated_patient(), ctcae_grade=1, serious=True, criterion_hospitalisation=True)
    assert saved.serious and saved.ctcae_grade == 1 and saved.seriousness_criteria == ["hospitalisation"]


def test_grade_5_adverse_event_must_have_a_fatal_outcome():
    with pytest.raises(ValidationError) as error:
        ae(treated_patient(), ctcae_grade=5, serious=True, criterion_death=True, outcome="recovered")
    assert "outcome" in error.value.message_dict


def test_adverse_event_resolving_before_onset_is_refused():
    with pytest.raises(ValidationError) as error:
        ae(treated_patient(), resolution_date=days_ago(40))
    assert "resolution_date" in error.value.message_dict


def test_meddra_code_must_have_eight_digits():
    with pytest.raises(ValidationError) as error:
        ae(treated_patient(), meddra_llt_code="1234")
    assert "meddra_llt_code" in error.value.message_dict


def test_consent_withdrawal_before_consent_is_refused():
    patient = treated_patient()
    consent = services.audited_save(Consent(patient=patient, form_version="v1", consent_date=days_ago(90)), user=None)
    with pytest.raises(ValidationError):
        services.consent_withdraw(
            user=None,
            consent=consent,
            withdrawn_on=days_ago(100),
            scope="no_further_collection",
            reason="moved abroad",
            expected_version=1,
        )
