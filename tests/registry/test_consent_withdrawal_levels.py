"""Consent withdrawal by level: treatment only changes nothing for data; withdrawal from data
collection refuses later entries but for the records the law keeps; withdrawal of data use also
leaves the patient out of new exports and analyses, counted in the analysis flow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from analytics.selectors import export_patients, patients_refusing_sharing
from interchange.exporter import exportable_patients
from registry import services
from registry.models import Consent, Patient
from tests.factories import NORMAL_ALSFRSR_ITEMS, days_ago, treated_patient

pytestmark = pytest.mark.django_db


def consented(patient: Patient) -> Consent:
    return services.audited_save(Consent(patient=patient, form_version="v1", consent_date=days_ago(90)), actor=None)


def withdraw(patient: Patient, scope: str, days: int = 20) -> Consent:
    consent = consented(patient)
    return services.consent_withdraw(
        actor=None,
        consent=consent,
        withdrawn_on=days_ago(days),
        scope=scope,
        reason="Patient's wish",
        expected_version=consent.version,
    )


def assess(patient: Patient, days: int):
    return services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(days), **NORMAL_ALSFRSR_ITEMS)


def test_a_treatment_only_withdrawal_lets_follow_up_continue():
    patient = treated_patient()
    withdraw(patient, "treatment_only")
    assert assess(patient, 5).pk


def test_after_withdrawal_from_data_collection_later_entries_are_refused():
    patient = treated_patient()
    withdraw(patient, "no_further_collection")
    with pytest.raises(ValidationError, match="withdrew from further data collection on"):
        assess(patient, 5)


def test_data_dated_before_the_withdrawal_can_still_be_entered():
    patient = treated_patient()
    withdraw(patient, "no_further_collection")
    assert assess(patient, 30).pk


def test_pharmacovigilance_continues_after_withdrawal():
    patient = treated_patient()
    withdraw(patient, "no_data_use")
    event = services.adverse_event_record(
        actor=None, patient=patient, term="Rash", onset_date=days_ago(3), ctcae_grade=1, relatedness="possible"
    )
    assert event.pk


def test_a_biomarker_after_withdrawal_of_data_use_is_refused():
    patient = treated_patient()
    withdraw(patient, "no_data_use")
    with pytest.raises(ValidationError, match="withdrew from further data collection"):
        services.biomarker_record(
            actor=None,
            patient=patient,
            sample_date=days_ago(2),
            analyte="csf_pnfh",
            reported_value=Decimal(1800),
            reported_unit="pg/mL",
            assay="Ella",
        )


def test_withdrawal_of_data_use_leaves_the_patient_out_of_new_exports_and_analyses():
    kept, withdrawn = treated_patient(), treated_patient()
    withdraw(withdrawn, "no_data_use")
    assert list(export_patients(None)) == [kept]
    assert list(exportable_patients()) == [kept]


def test_withdrawal_of_data_use_is_counted_once_in_the_analysis_flow():
    patient = treated_patient()
    withdraw(patient, "no_data_use")
    consented(patient)
    assert patients_refusing_sharing().count() == 1


def test_withdrawal_from_data_collection_keeps_the_data_in_analyses():
    patient = treated_patient()
    withdraw(patient, "no_further_collection")
    assert list(export_patients(None)) == [patient]
