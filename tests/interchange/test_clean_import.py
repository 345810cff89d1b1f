"""A clean cohort imports completely, mapped onto the registry's records, with its audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType

from access_programme.models import Batch, Dispensing, Enrolment, TreatmentCycle
from access_programme.next_due import next_due_refresh
from interchange.loaders import CONSENT_FORM_VERSION
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    ClinicalRecord,
    Consent,
    Diagnosis,
    Patient,
    PatientIdentity,
    Site,
)
from tests.interchange.conftest import CLEAN, read_cohort, run_import, write_cohort

pytestmark = [pytest.mark.requirement("DAT-03"), pytest.mark.django_db]

EXPECTED_ROWS = {
    "patients.csv": 3,
    "events.csv": 5,
    "alsfrs_r.csv": 5,
    "biomarkers.csv": 5,
    "adverse_events.csv": 2,
    "cycles.csv": 5,
    "dispensing.csv": 5,
}


@pytest.fixture
def imported(sites):
    return run_import(CLEAN)


def test_every_row_of_a_clean_cohort_is_created_and_none_rejected(imported):
    assert imported.errors == []
    for file, rows in EXPECTED_ROWS.items():
        assert imported.counts(file) == {
            "read": rows,
            "created": rows,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
            "warnings": imported.counts(file)["warnings"],
        }
    assert Patient.objects.count() == 3
    assert AlsfrsrAssessment.objects.count() == 5
    assert BiomarkerResult.objects.count() == 5
    assert ClinicalEvent.objects.count() == 5
    assert AdverseEvent.objects.count() == 2
    assert TreatmentCycle.objects.count() == 5
    assert Dispensing.objects.count() == 5


def test_the_alsfrs_r_total_at_diagnosis_column_of_rif_v2_is_kept_on_the_diagnosis(sites, tmp_path):
    files = read_cohort()
    for row, total in zip(files["patients.csv"], ("44", "", "40"), strict=True):
        row["alsfrsr_total_at_diagnosis"] = total
    run_import(write_cohort(tmp_path / "cohort", files))
    assert dict(Diagnosis.objects.values_list("patient__study_id", "alsfrsr_total_at_diagnosis")) == {
        "GB-LON-0001": 44,
        "GB-LON-0002": None,
        "GB-SHF-0001": 40,
    }


def test_a_patient_row_becomes_patient_diagnosis_consent_and_enrolment(imported):
    patient = Patient.objects.get(study_id="GB-LON-0001")
    assert (patient.site.code, patient.sex, patient.year_of_birth) == ("GB-LON", "female", 1962)
    diagnosis = Diagnosis.objects.get(patient=patient)
    assert diagnosis.symptom_onset_date == dt.date(2024, 3, 10)
    assert diagnosis.svc_percent == Decimal("85.0")
    assert (diagnosis.c9orf72, diagnosis.ftd, diagnosis.weight_kg) == ("negative", "no", Decimal("64.5"))
    enrolment = Enrolment.objects.get(patient=patient)
    assert (enrolment.route.code, enrolment.enrolment_date, enrolment.first_dose_date) == (
        "nhs_specials",
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 20),
    )
    consent = Consent.objects.get(patient=patient)
    assert consent.consent_date == enrolment.enrolment_date
    assert consent.form_version == CONSENT_FORM_VERSION


def test_identity_is_never_created_by_an_import(imported):
    assert not PatientIdentity.objects.exists()


def test_eligibility_is_computed_and_unmet_criteria_get_the_import_justification(imported):
    eligible = Enrolment.objects.get(patient__study_id="GB-LON-0001")
    assert eligible.meets_mirocals_criteria and eligible.unmet_criteria == []
    assert eligible.eligibility_justification == ""
    outside = Enrolment.objects.get(patient__study_id="GB-LON-0002")
    assert not outside.meets_mirocals_criteria
    assert {c["code"] for c in outside.unmet_criteria} == {"symptom_duration", "svc", "riluzole"}
    assert outside.eligibility_justification == "Imported from patients.csv: eligibility not assessed at source."


def test_untreated_comparator_has_no_first_dose(imported):
    enrolment = Enrolment.objects.get(patient__study_id="GB-SHF-0001")
    assert enrolment.route.code == "none" and enrolment.first_dose_date is None


def test_alsfrs_r_scores_are_derived_by_the_registry(imported):
    assessment = AlsfrsrAssessment.objects.get(patient__study_id="GB-LON-0001", assessment_date=dt.date(2025, 4, 7))
    assert assessment.q5a_cutting_without_gastrostomy is None
    assert assessment.q5b_cutting_with_gastrostomy == 2
    assert assessment.total == 39
    assert (assessment.bulbar, assessment.fine_motor, assessment.gross_motor, assessment.respiratory) == (11, 8, 8, 12)
    assert assessment.kings_stage == "4A"
    assert assessment.delta_fs is not None


def test_biomarker_units_are_normalised_keeping_what_was_reported(imported):
    pnfh = BiomarkerResult.objects.get(patient__study_id="GB-LON-0001", analyte="csf_pnfh")
    assert (pnfh.value, pnfh.unit) == (Decimal("1850"), "pg/mL")
    assert (pnfh.reported_value, pnfh.reported_unit) == (Decimal("1.85"), "ng/mL")
    nfl = BiomarkerResult.objects.get(patient__study_id="GB-LON-0002", analyte="serum_nfl")
    assert (nfl.value, nfl.unit, nfl.reported_unit) == (Decimal("95"), "pg/mL", "ng/L")


def test_seriousness_criteria_map_to_the_criterion_flags(imported):
    event = AdverseEvent.objects.get(term="Aspiration pneumonia")
    assert event.serious and event.seriousness_criteria == ["hospitalisation"]


def test_unknown_batches_are_created_from_dispensing_with_stock_equal_to_what_was_dispensed(imported):
    batch = Batch.objects.get(batch_number="SPX-T-001")
    assert batch.product.code == "proleukin_specials"
    assert (batch.expiry_date, batch.supplier) == (dt.date(2025, 7, 31), "Synthetic Specials Ltd")
    assert (batch.quantity_received, batch.quantity_remaining) == (15, 0)
    assert batch.received_on == dt.date(2025, 1, 20)
    warnings = [w for w in imported.warnings if w["key"] == "SPX-T-001"]
    assert len(warnings) == 1 and "specials licence number" in warnings[0]["message"]


def test_dispensings_are_linked_to_their_cycle_and_batch(imported):
    dispensing = Dispensing.objects.get(patient__study_id="GB-LON-0002", dispensed_on=dt.date(2025, 3, 16))
    assert dispensing.cycle.cycle_number == 2 and dispensing.batch.batch_number == "ILT-T-001"
    assert (dispensing.quantity, dispensing.prescriber) == (5, "Dr B. Neurologist (GMC 7654321)")


def test_every_imported_row_has_one_creation_history_row_with_the_file_as_reason(imported):
    reasons = {
        Patient: "import patients.csv",
        Diagnosis: "import patients.csv",
        Consent: "import patients.csv",
        Enrolment: "import patients.csv",
        AlsfrsrAssessment: "import alsfrs_r.csv",
        BiomarkerResult: "import biomarkers.csv",
        ClinicalEvent: "import events.csv",
        AdverseEvent: "import adverse_events.csv",
        TreatmentCycle: "import cycles.csv",
        Dispensing: "import dispensing.csv",
        Batch: "import dispensing.csv",
    }
    for model, reason in reasons.items():
        history = model.history.all()
        assert history.filter(history_type="+").count() == model.objects.count(), model.__name__
        assert set(history.values_list("history_change_reason", flat=True)) == {reason}, model.__name__


def test_no_clinical_model_is_written_without_history(imported):
    for model in apps.get_models():
        if issubclass(model, ClinicalRecord):
            assert model.history.count() >= model.objects.count(), model.__name__


def test_imported_study_ids_are_never_allocated_again(imported):
    assert Site.objects.get(code="GB-LON").next_patient_number == 3
    assert Site.objects.get(code="GB-SHF").next_patient_number == 2


def test_a_zip_of_the_cohort_folder_imports_the_same(sites, tmp_path):
    import shutil

    archive = shutil.make_archive(str(tmp_path / "cohort"), "zip", root_dir=CLEAN.parent, base_dir="clean")
    imported = run_import(tmp_path / "cohort.zip")
    assert imported.errors == []
    assert imported.outcome.report.totals.created == sum(EXPECTED_ROWS.values())
    assert archive.endswith(".zip")


def _queries_to_import_biomarkers(tmp_path, clean_files, count: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.interchange.conftest import write_cohort

    files = {name: rows for name, rows in clean_files.items() if name in ("patients.csv", "biomarkers.csv")}
    files["biomarkers.csv"] = [
        {**clean_files["biomarkers.csv"][1], "sample_date": str(dt.date(2025, 1, 1) + dt.timedelta(days=i))}
        for i in range(count)
    ]
    folder = write_cohort(tmp_path / f"rows{count}", files)
    with CaptureQueriesContext(connection) as queries:
        result = run_import(folder)
    assert result.counts("biomarkers.csv")["created"] == count
    return len(queries)


def test_the_import_makes_no_query_per_row(sites, tmp_path, clean_files):
    few = _queries_to_import_biomarkers(tmp_path, clean_files, 10)
    for model in (BiomarkerResult, Consent, Enrolment, Diagnosis, Patient):
        model.objects.all().delete()
    many = _queries_to_import_biomarkers(tmp_path, clean_files, 300)
    # 290 more rows cost only the extra INSERT batches SQLite's 999-parameter limit imposes.
    assert many - few <= 10


def test_the_import_keeps_each_enrolments_next_cycle_due_date_as_the_services_do(imported):
    stored = dict(Enrolment.objects.values_list("patient_id", "next_cycle_due"))
    assert any(stored.values())
    next_due_refresh()  # what the cycle and enrolment services would have left
    assert dict(Enrolment.objects.values_list("patient_id", "next_cycle_due")) == stored


def test_the_import_keeps_each_enrolments_next_alsfrsr_due_date_as_the_services_do(imported):
    stored = dict(Enrolment.objects.values_list("patient_id", "next_alsfrsr_due"))
    assert any(stored.values())
    next_due_refresh()  # what the ALSFRS-R, enrolment and outcome services would have left
    assert dict(Enrolment.objects.values_list("patient_id", "next_alsfrsr_due")) == stored


def _queries_to_import_patients(tmp_path, clean_files, first: int, count: int) -> int:
    """`count` new patients, each with one row in every file whose rules read the patient."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    per_patient = ("alsfrs_r.csv", "biomarkers.csv", "adverse_events.csv", "cycles.csv")
    files: dict[str, list[dict[str, str]]] = {"patients.csv": [], **{name: [] for name in per_patient}}
    for number in range(first, first + count):
        study_id = f"GB-LON-{number:04d}"
        files["patients.csv"].append({**clean_files["patients.csv"][0], "patient_id": study_id})
        for name in per_patient:
            files[name].append({**clean_files[name][0], "patient_id": study_id})
    folder = write_cohort(tmp_path / f"patients{count}", files)
    ContentType.objects.clear_cache()  # both imports start cold, whatever ran before
    with CaptureQueriesContext(connection) as queries:
        result = run_import(folder)
    assert result.errors == []
    assert all(result.counts(name)["created"] == count for name in files)
    # Reads and updates: the bulk INSERTs are one COPY per table on PostgreSQL, but split into
    # batches by SQLite's 999-parameter limit, which grow with the rows and are not the rules' reads.
    return sum(not query["sql"].lstrip().upper().startswith("INSERT") for query in queries.captured_queries)


def test_the_import_makes_no_query_per_patient(sites, tmp_path, clean_files):
    few = _queries_to_import_patients(tmp_path, clean_files, 1, 2)
    many = _queries_to_import_patients(tmp_path, clean_files, 101, 40)
    # The rules read a chunk's patients (onset, enrolment, death, withdrawal) in a few queries.
    assert many <= few
