"""Consent withdrawal by level, as dated append-only records: levels only escalate, the level in
force on a day is the highest recorded up to then, a wrong entry is corrected by a new record
(never edited or deleted); treatment only changes nothing for data; withdrawal from data
collection refuses later entries but for the records the law keeps; withdrawal of data use also
leaves the patient out of new exports and analyses, counted in the analysis flow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from analytics.selectors import export_patients, patients_refusing_sharing
from interchange.exporter import exportable_patients
from registry import services
from registry.models import AppendOnly, Consent, ConsentWithdrawal, Patient, Role
from registry.models.withdrawal import level_on
from tests.factories import NORMAL_ALSFRSR_ITEMS, UserFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


def consented(patient: Patient) -> Consent:
    return services.audited_save(Consent(patient=patient, form_version="v1", consent_date=days_ago(90)), actor=None)


def withdraw(patient: Patient, level: str, days: int = 20, actor=None, **more) -> ConsentWithdrawal:
    if not patient.consents.exists():
        consented(patient)
    return services.consent_withdraw(
        actor=actor, patient=patient, level=level, effective_on=days_ago(days), reason="Patient's wish", **more
    )


def assess(patient: Patient, days: int):
    return services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(days), **NORMAL_ALSFRSR_ITEMS)


# --- the record -----------------------------------------------------------------------------


def test_a_withdrawal_at_a_level_that_does_not_exist_is_refused_with_the_field_named():
    patient = treated_patient()

    with pytest.raises(ValidationError) as refused:
        withdraw(patient, "treatment")

    assert "not a valid choice" in refused.value.message_dict["level"][0]
    assert not ConsentWithdrawal.objects.filter(patient=patient).exists()


def test_a_withdrawal_is_a_dated_record_with_who_took_it_and_an_audit_row():
    patient = treated_patient()
    nurse = UserFactory.create(role=Role.CLINICIAN, sites=[patient.site])
    withdrawal = withdraw(patient, "no_further_collection", actor=nurse)
    assert (withdrawal.level, withdrawal.effective_on, withdrawal.recorded_by) == (
        "no_further_collection",
        days_ago(20),
        nurse,
    )
    assert withdrawal.recorded_at is not None
    audit = withdrawal.history.get()
    assert (audit.history_user, audit.history_change_reason) == (nurse, "Consent withdrawn: Patient's wish")


def test_levels_escalate_and_each_is_kept():
    patient = treated_patient()
    withdraw(patient, "treatment_only", days=40)
    withdraw(patient, "no_further_collection", days=20)
    withdraw(patient, "no_data_use", days=5)
    assert list(patient.withdrawals.values_list("level", flat=True)) == [
        "treatment_only",
        "no_further_collection",
        "no_data_use",
    ]


def test_a_lower_level_after_a_higher_one_is_refused():
    patient = treated_patient()
    withdraw(patient, "no_further_collection", days=20)
    with pytest.raises(ValidationError, match="can only escalate"):
        withdraw(patient, "treatment_only", days=10)
    with pytest.raises(ValidationError, match="can only escalate"):
        withdraw(patient, "no_further_collection", days=10)
    assert patient.withdrawals.count() == 1


def test_a_higher_level_dated_before_a_lower_one_is_refused():
    patient = treated_patient()
    withdraw(patient, "treatment_only", days=10)
    with pytest.raises(ValidationError, match="levels can only escalate over time"):
        withdraw(patient, "no_data_use", days=30)


def test_the_level_in_force_on_a_day_is_the_highest_recorded_up_to_then():
    patient = treated_patient()
    withdraw(patient, "treatment_only", days=40)
    withdraw(patient, "no_data_use", days=10)
    records = list(patient.withdrawals.all())
    assert [level_on(records, days_ago(d)) for d in (50, 40, 20, 10, 0)] == [
        "",
        "treatment_only",
        "treatment_only",
        "no_data_use",
        "no_data_use",
    ]


def test_a_withdrawal_before_consent_is_refused():
    patient = treated_patient()
    consented(patient)
    with pytest.raises(ValidationError, match="Withdrawal cannot precede consent"):
        withdraw(patient, "treatment_only", days=100)


def test_a_withdrawal_is_never_changed_or_deleted():
    withdrawal = withdraw(treated_patient(), "no_further_collection")
    withdrawal.level = "treatment_only"
    with pytest.raises(AppendOnly):
        withdrawal.save()
    with pytest.raises(AppendOnly):
        withdrawal.delete()
    assert ConsentWithdrawal.objects.get().level == "no_further_collection"


def test_a_wrong_entry_is_corrected_by_a_new_record_and_no_longer_counts():
    patient = treated_patient()
    wrong = withdraw(patient, "no_data_use", days=20)
    correction = withdraw(patient, "treatment_only", days=20, corrects=wrong)
    assert ConsentWithdrawal.objects.filter(patient=patient).count() == 2
    assert list(exportable_patients()) == [patient]
    assert assess(patient, 5).pk
    assert correction.history.get().history_change_reason.startswith(f"Correction of withdrawal {wrong.pk}")


def test_a_correction_may_say_there_was_no_withdrawal_at_all():
    patient = treated_patient()
    wrong = withdraw(patient, "no_further_collection")
    withdraw(patient, "", corrects=wrong)
    assert patient.collection_withdrawn_on() is None
    assert assess(patient, 5).pk


def test_an_entry_is_corrected_once_and_only_for_its_patient():
    patient, other = treated_patient(), treated_patient()
    wrong = withdraw(patient, "no_further_collection")
    withdraw(patient, "", corrects=wrong)
    with pytest.raises(ValidationError, match="already been corrected"):
        withdraw(patient, "treatment_only", corrects=wrong)
    with pytest.raises(ValidationError, match="another patient"):
        withdraw(other, "treatment_only", corrects=withdraw(treated_patient(), "treatment_only"))


def test_a_new_withdrawal_needs_a_level_and_a_reason():
    patient = treated_patient()
    consented(patient)
    with pytest.raises(ValidationError, match="State what the patient withdrew from"):
        services.consent_withdraw(actor=None, patient=patient, level="", effective_on=days_ago(1), reason="x")
    with pytest.raises(ValidationError, match="Give the reason"):
        services.consent_withdraw(
            actor=None, patient=patient, level="treatment_only", effective_on=days_ago(1), reason=" "
        )


def test_roles_without_clinical_writes_cannot_record_a_withdrawal():
    patient = treated_patient()
    analyst = UserFactory.create(role=Role.ANALYST)
    with pytest.raises(PermissionDenied):
        withdraw(patient, "no_data_use", actor=analyst)


# --- consequences ---------------------------------------------------------------------------


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


def test_entry_stops_from_the_earliest_withdrawal_from_collection_after_an_escalation():
    patient = treated_patient()
    withdraw(patient, "no_further_collection", days=30)
    withdraw(patient, "no_data_use", days=10)
    with pytest.raises(ValidationError, match="withdrew from further data collection on"):
        assess(patient, 20)


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
    withdraw(patient, "treatment_only", days=30)
    withdraw(patient, "no_data_use")
    consented(patient)
    assert patients_refusing_sharing().count() == 1


def test_withdrawal_from_data_collection_keeps_the_data_in_analyses():
    patient = treated_patient()
    withdraw(patient, "no_further_collection")
    assert list(export_patients(None)) == [patient]
