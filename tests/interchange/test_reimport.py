"""Importing again changes nothing; a changed row is an audited update; nothing is deleted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps

from access_programme.models import Dispensing, Enrolment, TreatmentCycle
from interchange.loaders import AlsfrsrLoader
from registry.models import AlsfrsrAssessment, BiomarkerResult, ClinicalRecord, Consent, Diagnosis, Patient
from tests.interchange.conftest import CLEAN, run_import, write_cohort

pytestmark = [pytest.mark.requirement("DAT-04"), pytest.mark.django_db]


def history_rows() -> int:
    return sum(
        model.history.count()  # type: ignore[attr-defined]
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord)
    )


def test_importing_the_same_cohort_twice_changes_nothing(sites):
    run_import(CLEAN)
    before = history_rows()
    again = run_import(CLEAN)
    assert again.errors == []
    totals = again.outcome.report.totals
    assert (totals.created, totals.updated, totals.rejected) == (0, 0, 0)
    assert totals.unchanged == totals.read == 30
    assert history_rows() == before


def test_a_second_import_leaves_batch_stock_alone(sites):
    run_import(CLEAN)
    run_import(CLEAN)
    from access_programme.models import Batch

    batch = Batch.objects.get(batch_number="SPX-T-001")
    assert (batch.quantity_received, batch.quantity_remaining, batch.version) == (15, 0, 1)


def test_a_changed_row_updates_its_record_with_the_file_as_reason(sites, clean_files, tmp_path):
    run_import(CLEAN)
    clean_files["alsfrs_r.csv"][0]["q1_speech"] = "2"
    result = run_import(write_cohort(tmp_path / "changed", clean_files))
    assert result.counts("alsfrs_r.csv")["updated"] == 1
    assert result.counts("alsfrs_r.csv")["unchanged"] == 4
    assessment = AlsfrsrAssessment.objects.get(patient__study_id="GB-LON-0001", assessment_date=dt.date(2025, 1, 6))
    assert (assessment.q1_speech, assessment.total, assessment.version) == (2, 41, 2)
    latest = assessment.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_change_reason) == ("~", "import alsfrs_r.csv")
    assert latest.total == 41


def test_a_changed_patient_row_updates_only_the_records_that_changed(sites, clean_files, tmp_path):
    run_import(CLEAN)
    clean_files["patients.csv"][0]["baseline_svc_percent"] = "79.5"
    result = run_import(write_cohort(tmp_path / "changed", clean_files))
    assert result.counts("patients.csv") == {
        "read": 3,
        "created": 0,
        "updated": 1,
        "unchanged": 2,
        "rejected": 0,
        "warnings": 0,
    }
    diagnosis = Diagnosis.objects.get(patient__study_id="GB-LON-0001")
    assert (diagnosis.svc_percent, diagnosis.version) == (Decimal("79.5"), 2)
    assert diagnosis.history.latest("history_id").history_change_reason == "import patients.csv"
    assert Patient.objects.get(study_id="GB-LON-0001").version == 1
    assert Enrolment.objects.get(patient__study_id="GB-LON-0001").version == 1


def test_a_changed_enrolment_date_moves_the_consent_and_rechecks_eligibility(sites, clean_files, tmp_path):
    run_import(CLEAN)
    clean_files["patients.csv"][0]["enrolment_date"] = "2025-01-10"
    run_import(write_cohort(tmp_path / "changed", clean_files))
    enrolment = Enrolment.objects.get(patient__study_id="GB-LON-0001")
    assert (enrolment.enrolment_date, enrolment.version) == (dt.date(2025, 1, 10), 2)
    assert Consent.objects.get(patient__study_id="GB-LON-0001").consent_date == dt.date(2025, 1, 10)
    assert enrolment.meets_mirocals_criteria


def test_rows_missing_from_a_later_import_are_kept(sites, clean_files, tmp_path):
    run_import(CLEAN)
    clean_files["biomarkers.csv"] = clean_files["biomarkers.csv"][:1]
    run_import(write_cohort(tmp_path / "fewer", clean_files))
    assert BiomarkerResult.objects.count() == 5


def test_an_interrupted_import_completes_when_run_again(sites, clean_files, tmp_path):
    partial = {name: rows for name, rows in clean_files.items() if name != "dispensing.csv"}
    partial["cycles.csv"] = partial["cycles.csv"][:2]
    run_import(write_cohort(tmp_path / "partial", partial))
    result = run_import(CLEAN)
    assert result.errors == []
    assert result.counts("cycles.csv")["created"] == 3 and result.counts("cycles.csv")["unchanged"] == 2
    assert TreatmentCycle.objects.count() == 5 and Dispensing.objects.count() == 5


def test_a_record_changed_by_someone_else_during_the_import_is_not_overwritten(
    sites, clean_files, tmp_path, monkeypatch
):
    run_import(CLEAN)
    original = AlsfrsrLoader.lock

    def lock_after_a_concurrent_edit(self, pks):
        locked = original(self, pks)
        for obj in locked.values():
            obj.version += 1  # as if a clinician saved it between the import's read and its lock
        return locked

    monkeypatch.setattr(AlsfrsrLoader, "lock", lock_after_a_concurrent_edit)
    clean_files["alsfrs_r.csv"][0]["q1_speech"] = "2"
    result = run_import(write_cohort(tmp_path / "changed", clean_files))
    assert "changed by someone else while the import was running" in result.error_on("alsfrs_r.csv", 2)["message"]
    assessment = AlsfrsrAssessment.objects.get(patient__study_id="GB-LON-0001", assessment_date=dt.date(2025, 1, 6))
    assert (assessment.q1_speech, assessment.version) == (4, 1)


def test_an_import_by_a_user_is_recorded_as_theirs_in_the_audit_trail(sites):
    from tests.factories import UserFactory

    manager = UserFactory(role="data_manager")
    run_import(CLEAN, user=manager)
    assert set(Patient.history.values_list("history_user", flat=True)) == {manager.pk}
    assert set(TreatmentCycle.history.values_list("history_user", flat=True)) == {manager.pk}


def test_a_row_for_a_signed_casebook_is_rejected_and_the_record_kept(sites, clean_files, tmp_path):
    from registry.models import Role, Signature, SignatureMeaning, SignatureScope
    from registry.signing import content_hash
    from tests.factories import UserFactory

    run_import(CLEAN)
    patient = Patient.objects.get(study_id="GB-LON-0001")
    signer = UserFactory(username="ivan", first_name="Ivan", last_name="Petrov", role=Role.CLINICIAN)
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    signature = Signature(
        patient=patient,
        scope=SignatureScope.CASEBOOK,
        record_type=ContentType.objects.get_for_model(Patient),
        record_id=patient.pk,
        signer=signer,
        printed_name="Ivan Petrov",
        signed_at=timezone.now(),
        meaning=SignatureMeaning.APPROVAL,
    )
    signature.content_hash = content_hash(signature, patient)
    signature.save()
    clean_files["alsfrs_r.csv"][0]["q1_speech"] = "2"
    result = run_import(write_cohort(tmp_path / "changed", clean_files))
    assert result.counts("alsfrs_r.csv")["rejected"] == 1
    assert "signed and locked" in result.errors[0]["message"]
    assessment = AlsfrsrAssessment.objects.get(patient=patient, assessment_date=dt.date(2025, 1, 6))
    assert assessment.version == 1


def next_due(study_id: str) -> tuple[dt.date | None, str | None]:
    enrolment = Enrolment.objects.select_related("site").get(patient__study_id=study_id)
    return enrolment.next_cycle_due, enrolment.site.code if enrolment.site else None


def test_the_import_keeps_the_next_due_date_and_site_and_a_reimport_keeps_them_right(sites, clean_files, tmp_path):
    """The dead patient has no next due date (off the worklist); one lost to follow-up in a later
    file loses it; importing the same files again changes nothing."""
    run_import(CLEAN)
    assert next_due("GB-LON-0002") == (None, "GB-LON")  # died 2025-06-30
    assert next_due("GB-LON-0001") == (dt.date(2025, 4, 14), "GB-LON")  # cycle 3 started 2025-03-17
    run_import(CLEAN)
    assert next_due("GB-LON-0002") == (None, "GB-LON")
    assert next_due("GB-LON-0001") == (dt.date(2025, 4, 14), "GB-LON")
    clean_files["events.csv"].append(
        {"patient_id": "GB-LON-0001", "event_date": "2025-10-02", "event_type": "lost_to_follow_up", "detail": ""}
    )
    result = run_import(write_cohort(tmp_path / "lost", clean_files))
    assert result.counts("events.csv")["created"] == 1
    assert next_due("GB-LON-0001") == (None, "GB-LON")


def test_a_patient_moved_to_another_site_by_a_reimport_moves_its_enrolments_kept_site(sites, clean_files, tmp_path):
    """The patient list and the worklist filter by the site the enrolment keeps (next_due)."""
    run_import(CLEAN)
    clean_files["patients.csv"][0]["site_code"] = "GB-SHF"
    result = run_import(write_cohort(tmp_path / "moved", clean_files))
    assert result.counts("patients.csv")["updated"] == 1
    assert next_due("GB-LON-0001") == (dt.date(2025, 4, 14), "GB-SHF")


def test_a_new_assessment_in_a_later_file_moves_the_next_alsfrsr_due_date(sites, clean_files, tmp_path):
    run_import(CLEAN)
    kept = Enrolment.objects.filter(patient__study_id="GB-LON-0001")
    assert kept.get().next_alsfrsr_due == dt.date(2025, 7, 7)  # 91 days after the last, 7 Apr 2025
    last = next(row for row in reversed(clean_files["alsfrs_r.csv"]) if row["patient_id"] == "GB-LON-0001")
    later = {**last, "assessment_date": "2025-07-14"}
    clean_files["alsfrs_r.csv"].append(later)
    result = run_import(write_cohort(tmp_path / "assessed", clean_files))
    assert result.counts("alsfrs_r.csv")["created"] == 1
    assert kept.get().next_alsfrsr_due == dt.date(2025, 10, 13)
