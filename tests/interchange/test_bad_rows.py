"""Every kind of bad row is rejected with file, line, key and a reason; the good rows stay.

Each test breaks the clean fixture cohort in one place (`tests/fixtures/rif/clean`), imports
it, and checks both the report entry and that the rest of the patient's data was imported.
Line numbers count the header as line 1.
"""

from __future__ import annotations

import datetime as dt

import pytest

from access_programme.models import Batch, Dispensing, Enrolment, TreatmentCycle
from interchange.reader import SourceError
from registry.models import AdverseEvent, AlsfrsrAssessment, BiomarkerResult, ClinicalEvent, Diagnosis, Patient
from tests.factories import days_ago
from tests.interchange.conftest import run_import, write_cohort

pytestmark = [pytest.mark.requirement("DAT-03"), pytest.mark.django_db]


def alsfrs_row(patient_id: str, date: str, **items: str) -> dict[str, str]:
    row = {
        "patient_id": patient_id,
        "assessment_date": date,
        "q1_speech": "4",
        "q2_salivation": "4",
        "q3_swallowing": "4",
        "q4_handwriting": "4",
        "q5a_cutting_without_gastrostomy": "4",
        "q5b_cutting_with_gastrostomy": "",
        "q6_dressing_hygiene": "4",
        "q7_turning_in_bed": "4",
        "q8_walking": "4",
        "q9_climbing_stairs": "4",
        "q10_dyspnoea": "4",
        "q11_orthopnoea": "4",
        "q12_respiratory_insufficiency": "4",
    }
    return {**row, **items}


def add(files: dict, name: str, row: dict[str, str]) -> int:
    """Append a row; returns its line number in the file (header is line 1)."""
    files[name].append(row)
    return len(files[name]) + 1


# --- reading the files ---------------------------------------------------------------------


def test_a_missing_required_column_rejects_that_file_and_keeps_the_others(clean_files, import_files):
    for row in clean_files["alsfrs_r.csv"]:
        del row["q8_walking"]
    result = import_files(clean_files)
    error = result.error_on("alsfrs_r.csv", 1)
    assert "missing required column(s): q8_walking" in error["message"]
    assert result.counts("alsfrs_r.csv")["rejected"] == 5
    assert not AlsfrsrAssessment.objects.exists()
    assert Patient.objects.count() == 3 and BiomarkerResult.objects.count() == 5


def test_a_file_that_is_not_utf8_is_rejected_naming_the_line(clean_files, import_files, tmp_path):
    clean_files["events.csv"][0]["detail"] = "Gastrostomie posée à l'hôpital"
    folder = write_cohort(tmp_path / "latin1", clean_files)
    text = (folder / "events.csv").read_text(encoding="utf-8")
    (folder / "events.csv").write_bytes(text.encode("latin-1"))
    result = run_import(folder)
    error = [e for e in result.errors if e["file"] == "events.csv"]
    assert len(error) == 1
    assert "events.csv is not UTF-8 (byte 0xE9 on line 2)" in error[0]["message"]
    assert result.counts("events.csv")["rejected"] == 5
    assert not ClinicalEvent.objects.exists()
    assert AlsfrsrAssessment.objects.count() == 5


def test_a_utf8_byte_order_mark_is_accepted(clean_files, tmp_path, sites):
    folder = write_cohort(tmp_path / "bom", clean_files)
    text = (folder / "patients.csv").read_text(encoding="utf-8")
    (folder / "patients.csv").write_text(text, encoding="utf-8-sig")
    result = run_import(folder)
    assert result.errors == [] and Patient.objects.count() == 3


def test_an_unknown_extra_column_is_a_warning_and_ignored(clean_files, import_files):
    for row in clean_files["biomarkers.csv"]:
        row["laboratory_comment"] = "ok"
    result = import_files(clean_files)
    assert result.errors == []
    warning = next(w for w in result.warnings if w["file"] == "biomarkers.csv")
    assert (warning["line"], warning["message"]) == ("1", "unknown column 'laboratory_comment' was ignored.")
    assert BiomarkerResult.objects.count() == 5


def test_an_identifier_column_is_never_stored_and_is_flagged(clean_files, import_files):
    for row in clean_files["patients.csv"]:
        row["nhs_number"] = "9434765919"
    result = import_files(clean_files)
    warning = next(w for w in result.warnings if w["file"] == "patients.csv")
    assert "looks like a direct identifier" in warning["message"]
    assert Patient.objects.count() == 3
    assert not Patient.objects.filter(identity__isnull=False).exists()


def test_a_semicolon_separated_file_gets_a_hint(clean_files, import_files, tmp_path, sites):
    folder = write_cohort(tmp_path / "semi", clean_files)
    text = (folder / "cycles.csv").read_text(encoding="utf-8").replace(",", ";")
    (folder / "cycles.csv").write_text(text, encoding="utf-8")
    result = run_import(folder)
    assert "separated by semicolons" in result.error_on("cycles.csv", 1)["message"]


def test_a_row_with_too_many_values_is_rejected(clean_files, import_files, tmp_path, sites):
    folder = write_cohort(tmp_path / "extra", clean_files)
    with (folder / "events.csv").open("a", encoding="utf-8") as handle:
        handle.write("GB-LON-0001,2025-05-01,niv_start,Started, at home\n")
    result = run_import(folder)
    error = result.error_on("events.csv", 7)
    assert "the row has 5 values but the header has 4 columns" in error["message"]
    assert error["key"] == "GB-LON-0001 / niv_start / 2025-05-01"
    assert ClinicalEvent.objects.count() == 5


def test_a_cohort_without_patients_csv_is_refused(tmp_path, sites):
    write_cohort(tmp_path / "nopatients", {"events.csv": []})
    with pytest.raises(SourceError, match=r"No patients\.csv"):
        run_import(tmp_path / "nopatients")


# --- cell values ---------------------------------------------------------------------------


def test_an_unknown_enum_value_is_an_error_not_a_default(clean_files, import_files):
    clean_files["patients.csv"][1]["sex"] = "M"
    result = import_files(clean_files)
    error = result.error_on("patients.csv", 3)
    assert error["key"] == "GB-LON-0002"
    assert error["message"] == "sex: 'M' is not one of: male, female."
    assert error["columns"] == "sex"
    assert set(Patient.objects.values_list("study_id", flat=True)) == {"GB-LON-0001", "GB-SHF-0001"}


def test_text_longer_than_the_field_is_rejected_not_truncated(clean_files, import_files):
    clean_files["dispensing.csv"][0]["prescriber"] = "Dr " + "X" * 130
    result = import_files(clean_files)
    message = result.error_on("dispensing.csv", 2)["message"]
    assert "prescriber: Ensure this value has at most 120 characters (it has 133)." in message
    assert Dispensing.objects.count() == 4


# --- patients.csv rules ----------------------------------------------------------------------


def test_diagnosis_before_symptom_onset_is_rejected_with_the_model_message(clean_files, import_files):
    clean_files["patients.csv"][0]["diagnosis_date"] = "2024-01-01"
    result = import_files(clean_files)
    error = result.error_on("patients.csv", 2)
    assert error["message"] == "diagnosis_date: Diagnosis cannot precede symptom onset."
    assert error["key"] == "GB-LON-0001"
    assert not Patient.objects.filter(study_id="GB-LON-0001").exists()
    assert Patient.objects.count() == 2


def test_an_unknown_site_is_rejected_naming_the_known_sites(clean_files, import_files):
    clean_files["patients.csv"][2]["site_code"] = "GB-XYZ"
    result = import_files(clean_files)
    error = result.error_on("patients.csv", 4)
    assert error["message"] == "site_code: 'GB-XYZ' is not a site of the registry (known sites: GB-LON, GB-SHF)."
    assert not Patient.objects.filter(study_id="GB-SHF-0001").exists()


def test_a_date_in_the_future_is_rejected(clean_files, import_files):
    clean_files["patients.csv"][2]["enrolment_date"] = str(days_ago(-10))
    result = import_files(clean_files)
    assert "enrolment_date: This date is in the future." in result.error_on("patients.csv", 4)["message"]


def test_every_problem_of_a_patient_row_is_reported_at_once(clean_files, import_files):
    clean_files["patients.csv"][0]["diagnosis_date"] = "2024-01-01"
    clean_files["patients.csv"][0]["first_dose_date"] = "2025-01-01"
    result = import_files(clean_files)
    error = result.error_on("patients.csv", 2)
    assert "Diagnosis cannot precede symptom onset." in error["message"]
    assert "The first dose precedes enrolment." in error["message"]
    assert error["columns"] == "diagnosis_date;first_dose_date"


def test_rows_of_a_rejected_patient_are_rejected_with_the_reason(clean_files, import_files):
    clean_files["patients.csv"][1]["sex"] = "M"
    result = import_files(clean_files)
    error = result.error_on("alsfrs_r.csv", 4)
    assert error["message"].startswith("patient GB-LON-0002 was rejected in patients.csv (line 3)")
    assert error["key"] == "GB-LON-0002 / 2025-02-03"
    assert result.counts("alsfrs_r.csv")["rejected"] == 2
    assert result.counts("dispensing.csv")["rejected"] == 2
    assert AlsfrsrAssessment.objects.count() == 3


def test_a_row_for_an_unknown_patient_is_rejected(clean_files, import_files):
    line = add(clean_files, "alsfrs_r.csv", alsfrs_row("GB-LON-0099", "2025-03-03"))
    result = import_files(clean_files)
    error = result.error_on("alsfrs_r.csv", line)
    assert error["message"] == "patient GB-LON-0099 is unknown: not in patients.csv and not in the registry."
    assert error["key"] == "GB-LON-0099 / 2025-03-03"
    assert AlsfrsrAssessment.objects.count() == 5


def test_a_duplicate_key_in_the_same_file_keeps_the_first_row(clean_files, import_files):
    line = add(clean_files, "alsfrs_r.csv", alsfrs_row("GB-LON-0001", "2025-01-06", q1_speech="2"))
    result = import_files(clean_files)
    error = result.error_on("alsfrs_r.csv", line)
    assert error["message"].startswith("duplicate of line 2: the same patient_id, assessment_date appears twice")
    assessment = AlsfrsrAssessment.objects.get(patient__study_id="GB-LON-0001", assessment_date=dt.date(2025, 1, 6))
    assert assessment.q1_speech == 4


# --- biomarkers ----------------------------------------------------------------------------------


def test_a_duplicate_of_a_row_in_an_earlier_chunk_names_the_first_line(clean_files, import_files):
    # Chunks of two rows: the first row's key has been folded away from the recent keys (FirstLines).
    line = add(clean_files, "alsfrs_r.csv", alsfrs_row("GB-LON-0001", "2025-01-06", q1_speech="2"))
    result = import_files(clean_files, chunk_size=2)
    error = result.error_on("alsfrs_r.csv", line)
    assert error["message"].startswith("duplicate of line 2: the same patient_id, assessment_date appears twice")
    assert result.counts("alsfrs_r.csv")["rejected"] == 1
    assert AlsfrsrAssessment.objects.count() == 5


def test_a_biomarker_in_a_unit_not_accepted_is_rejected(clean_files, import_files):
    line = add(
        clean_files,
        "biomarkers.csv",
        {
            "patient_id": "GB-LON-0001",
            "sample_date": "2025-04-01",
            "analyte": "serum_nfl",
            "value": "0.05",
            "unit": "mg/dL",
            "assay": "Quanterix Simoa NF-light",
        },
    )
    result = import_files(clean_files)
    message = result.error_on("biomarkers.csv", line)["message"]
    assert message == "unit: Unit 'mg/dL' is not accepted for serum_nfl; use one of: pg/mL, ng/L, ng/mL."
    assert BiomarkerResult.objects.count() == 5


# --- events and death ------------------------------------------------------------------------------


def test_a_second_death_is_rejected(clean_files, import_files):
    line = add(
        clean_files,
        "events.csv",
        {
            "patient_id": "GB-LON-0002",
            "event_date": "2025-06-29",
            "event_type": "death",
            "detail": "",
        },
    )
    result = import_files(clean_files)
    error = result.error_on("events.csv", line)
    assert error["message"] == "event_type: A death is already recorded for this patient."
    assert ClinicalEvent.objects.filter(patient__study_id="GB-LON-0002", event_type="death").count() == 1


def test_an_event_after_death_is_rejected(clean_files, import_files):
    line = add(
        clean_files,
        "events.csv",
        {
            "patient_id": "GB-LON-0002",
            "event_date": "2025-07-15",
            "event_type": "last_known_alive",
            "detail": "",
        },
    )
    result = import_files(clean_files)
    message = result.error_on("events.csv", line)["message"]
    assert message == "event_date: The patient died on 30 Jun 2025; nothing can be recorded after death."
    assert ClinicalEvent.objects.filter(patient__study_id="GB-LON-0002").count() == 2


def test_a_record_in_another_file_after_death_is_rejected_even_if_listed_before_the_death(clean_files, import_files):
    line = add(clean_files, "alsfrs_r.csv", alsfrs_row("GB-LON-0002", "2025-08-01"))
    result = import_files(clean_files)
    message = result.error_on("alsfrs_r.csv", line)["message"]
    assert message == "assessment_date: The patient died on 30 Jun 2025; nothing can be recorded after death."
    assert AlsfrsrAssessment.objects.filter(patient__study_id="GB-LON-0002").count() == 2


def test_a_death_before_records_already_in_the_registry_is_rejected(clean_files, import_files):
    first = import_files({"patients.csv": clean_files["patients.csv"], "alsfrs_r.csv": clean_files["alsfrs_r.csv"]})
    assert first.errors == []
    clean_files["events.csv"][3]["event_date"] = "2025-04-20"  # before the 2025-05-05 assessment
    result = import_files(clean_files, name="second")
    message = result.error_on("events.csv", 5)["message"]
    assert message == "event_date: Records exist dated 05 May 2025, after this date of death."
    assert not ClinicalEvent.objects.filter(event_type="death").exists()


# --- cycles -------------------------------------------------------------------------------------------


def test_a_cycle_less_than_28_days_after_the_previous_is_rejected(clean_files, import_files):
    line = add(
        clean_files,
        "cycles.csv",
        {
            "patient_id": "GB-LON-0002",
            "cycle_number": "3",
            "start_date": "2025-04-07",
            "planned_dose_miu": "2",
            "days_administered": "5",
            "total_dose_miu": "10",
            "interrupted": "no",
            "interruption_reason": "",
        },
    )
    result = import_files(clean_files)
    message = result.error_on("cycles.csv", line)["message"]
    assert message == (
        "start_date: Cycle 3 starts 21 days after cycle 2; cycles are at least 28 days apart (earliest 14 Apr 2025)."
    )
    assert TreatmentCycle.objects.filter(patient__study_id="GB-LON-0002").count() == 2


def test_an_untreated_patient_cannot_have_cycles(clean_files, import_files):
    line = add(
        clean_files,
        "cycles.csv",
        {
            "patient_id": "GB-SHF-0001",
            "cycle_number": "1",
            "start_date": "2025-03-10",
            "planned_dose_miu": "2",
            "days_administered": "5",
            "total_dose_miu": "10",
            "interrupted": "no",
            "interruption_reason": "",
        },
    )
    result = import_files(clean_files)
    assert result.error_on("cycles.csv", line)["message"] == "Only patients enrolled on a treatment route have cycles."


def test_dispensing_for_a_rejected_cycle_is_rejected_with_the_reason(clean_files, import_files):
    clean_files["cycles.csv"][2]["interruption_reason"] = ""
    result = import_files(clean_files)
    message = result.error_on("dispensing.csv", 4)["message"]
    assert message.startswith("cycle_number: cycle 3 of patient GB-LON-0001 was rejected in cycles.csv (line 4)")
    assert Dispensing.objects.count() == 4


# --- dispensing ----------------------------------------------------------------------------------------


def test_dispensing_after_the_batch_expiry_is_rejected(clean_files, import_files):
    for row in clean_files["dispensing.csv"][:3]:
        row["batch_expiry"] = "2025-03-01"
    result = import_files(clean_files)
    error = result.error_on("dispensing.csv", 4)
    assert error["message"] == "batch_number: Batch SPX-T-001 expired on 01 Mar 2025."
    assert error["key"] == "GB-LON-0001 / 2025-03-17 / SPX-T-001"
    assert Dispensing.objects.filter(patient__study_id="GB-LON-0001").count() == 2


def test_a_new_batch_first_dispensed_after_its_expiry_is_reported_as_expired(clean_files, import_files):
    rows = clean_files["dispensing.csv"]
    rows[3], rows[4] = rows[4], rows[3]  # the batch is first seen on its 16 March dispensing
    for row in rows[3:]:
        row["batch_expiry"] = "2025-03-01"
    result = import_files(clean_files)
    assert result.error_on("dispensing.csv", 5)["message"] == "batch_number: Batch ILT-T-001 expired on 01 Mar 2025."
    batch = Batch.objects.get(batch_number="ILT-T-001")
    assert (batch.received_on, batch.quantity_received) == (dt.date(2025, 2, 16), 5)


def test_a_batch_expiry_different_from_the_known_batch_is_rejected(clean_files, import_files):
    clean_files["dispensing.csv"][1]["batch_expiry"] = "2025-08-31"
    result = import_files(clean_files)
    message = result.error_on("dispensing.csv", 3)["message"]
    assert message.startswith("batch_expiry: batch SPX-T-001 of Proleukin")
    assert message.endswith("is recorded with expiry 2025-07-31, not 2025-08-31.")
    assert Batch.objects.get(batch_number="SPX-T-001").quantity_received == 10


def test_a_product_not_supplied_on_the_patients_route_is_rejected(clean_files, import_files):
    row = clean_files["dispensing.csv"][0]
    row.update(product="ilt_101", batch_number="ILT-T-001", batch_expiry="2026-01-31", supplier="ILTOO Pharma")
    result = import_files(clean_files)
    message = result.error_on("dispensing.csv", 2)["message"]
    assert message == (
        "batch_number: ILT-101 low-dose interleukin-2 is not supplied on the patient's route "
        "(NHS Specials (reconstituted Proleukin))."
    )


def test_dispensing_more_than_a_received_batch_holds_is_rejected(clean_files, import_files):
    from tests.factories import BatchFactory

    BatchFactory(
        batch_number="SPX-T-001",
        expiry_date=dt.date(2025, 7, 31),
        received_on=dt.date(2025, 1, 2),
        quantity_received=12,
        quantity_remaining=12,
    )
    result = import_files(clean_files)
    message = result.error_on("dispensing.csv", 4)["message"]
    assert message == "batch_number: Batch SPX-T-001 has only 2 syringe(s) left."
    assert Batch.objects.get(batch_number="SPX-T-001").quantity_remaining == 2


def test_a_recalled_batch_cannot_be_dispensed_from(clean_files, import_files):
    from access_programme.models import BatchStatus
    from tests.factories import BatchFactory

    BatchFactory(
        batch_number="SPX-T-001",
        expiry_date=dt.date(2025, 7, 31),
        received_on=dt.date(2025, 1, 2),
        status=BatchStatus.RECALLED,
        status_reason="Sterility failure",
    )
    result = import_files(clean_files)
    assert result.error_on("dispensing.csv", 2)["message"] == "batch_number: Batch SPX-T-001 is recalled."


# --- adverse events --------------------------------------------------------------------------------


def test_an_adverse_event_grade_out_of_range_is_rejected(clean_files, import_files):
    clean_files["adverse_events.csv"][0]["ctcae_grade"] = "6"
    result = import_files(clean_files)
    error = result.error_on("adverse_events.csv", 2)
    assert error["message"] == "ctcae_grade: '6' is not one of: 1, 2, 3, 4, 5."
    assert error["key"] == "GB-LON-0001 / Injection site reaction / 2025-01-21"
    assert AdverseEvent.objects.count() == 1


def test_good_rows_of_a_patient_with_rejected_rows_are_kept(clean_files, import_files):
    clean_files["alsfrs_r.csv"][0]["q1_speech"] = "9"
    clean_files["cycles.csv"][1]["start_date"] = "2025-02-01"
    result = import_files(clean_files)
    # The assessment, cycle 2 (12 days after cycle 1) and cycle 2's dispensing; cycle 3 is then
    # 56 days after cycle 1 and stays.
    assert [(e["file"], e["line"]) for e in result.errors] == [
        ("alsfrs_r.csv", "2"),
        ("cycles.csv", "3"),
        ("dispensing.csv", "3"),
    ]
    patient = Patient.objects.get(study_id="GB-LON-0001")
    assert TreatmentCycle.objects.filter(patient=patient).count() == 2
    assert Diagnosis.objects.filter(patient=patient).exists() and Enrolment.objects.filter(patient=patient).exists()
    assert AlsfrsrAssessment.objects.filter(patient=patient).count() == 1
    assert BiomarkerResult.objects.filter(patient=patient).count() == 3


# --- one cell changed: the row is rejected with the model's (or the reader's) message ---------------
# (file, row index, column, new value, line in the report, message; an exact message is a str,
# a tuple lists fragments the message must contain.)

CELL_CASES = [
    pytest.param(
        "patients.csv",
        0,
        "baseline_svc_percent",
        "85,5",
        2,
        "baseline_svc_percent: '85,5' is not a number (use . as the decimal separator).",
        id="decimal-comma",
    ),
    pytest.param(
        "patients.csv", 2, "diagnosis_date", "", 4, "diagnosis_date: a value is required.", id="missing-required-value"
    ),
    pytest.param(
        "patients.csv",
        0,
        "baseline_svc_percent",
        "85.25",
        2,
        "baseline_svc_percent: Ensure that there are no more than 1 decimal place.",
        id="more-decimal-places-than-stored-not-rounded",
    ),
    pytest.param(
        "patients.csv",
        0,
        "first_dose_date",
        "2025-01-01",
        2,
        "first_dose_date: The first dose precedes enrolment.",
        id="first-dose-before-enrolment",
    ),
    pytest.param(
        "patients.csv",
        2,
        "enrolment_date",
        "2024-11-01",
        4,
        "enrolment_date: Enrolment precedes diagnosis.",
        id="enrolment-before-diagnosis",
    ),
    pytest.param(
        "patients.csv",
        2,
        "first_dose_date",
        "2025-03-10",
        4,
        "first_dose_date: Registry-only (untreated) patients have no first dose.",
        id="untreated-patient-with-first-dose",
    ),
    pytest.param(
        "patients.csv",
        0,
        "year_of_birth",
        "1850",
        2,
        ("year_of_birth: Year of birth must be between 1900 and",),
        id="year-of-birth-out-of-range",
    ),
    pytest.param(
        "biomarkers.csv",
        4,
        "value",
        "-3",
        6,
        ("value: Ensure this value is greater than or equal to 0.",),
        id="negative-biomarker-value",
    ),
    pytest.param("biomarkers.csv", 0, "assay", "", 2, "assay: a value is required.", id="biomarker-without-assay"),
    pytest.param(
        "events.csv",
        2,
        "event_date",
        "2022-12-31",
        4,
        "event_date: This date precedes symptom onset (15 Jan 2023).",
        id="event-before-symptom-onset",
    ),
    pytest.param(
        "cycles.csv",
        3,
        "start_date",
        "2025-02-18",
        5,
        "start_date: Cycle 1 starts on the first dose date (17 Feb 2025).",
        id="cycle-1-not-on-first-dose",
    ),
    pytest.param(
        "cycles.csv",
        0,
        "days_administered",
        "6",
        2,
        ("days_administered: Ensure this value is less than or equal to 5.",),
        id="days-administered-above-5",
    ),
    pytest.param(
        "cycles.csv",
        0,
        "interrupted",
        "false",
        2,
        "interrupted: 'false' is not one of: yes, no.",
        id="unknown-yes-no-value",
    ),
    pytest.param(
        "dispensing.csv",
        4,
        "supplier",
        "Another Wholesaler",
        6,
        ("is recorded as supplied by 'ILTOO Pharma', not 'Another Wholesaler'",),
        id="batch-from-another-supplier",
    ),
    pytest.param(
        "dispensing.csv",
        4,
        "cycle_number",
        "7",
        6,
        "cycle_number: cycle 7 is not recorded for patient GB-LON-0002 "
        "(it must be in cycles.csv or already in the registry).",
        id="unknown-cycle",
    ),
    pytest.param(
        "adverse_events.csv",
        1,
        "seriousness_criteria",
        "",
        3,
        "serious: A serious adverse event needs at least one seriousness criterion.",
        id="serious-without-criteria",
    ),
    pytest.param(
        "adverse_events.csv",
        1,
        "seriousness_criteria",
        "hospitalisation;prolonged",
        3,
        ("'prolonged' is not one of: death, life_threatening",),
        id="unknown-seriousness-criterion",
    ),
]


def assert_message(message: str, expected: str | tuple[str, ...]) -> None:
    if isinstance(expected, str):
        assert message == expected
    else:
        for fragment in expected:
            assert fragment in message


@pytest.mark.parametrize(("file", "index", "column", "value", "line", "expected"), CELL_CASES)
def test_a_bad_cell_rejects_its_row_with_the_rule_message(
    clean_files, import_files, file, index, column, value, line, expected
):
    clean_files[file][index][column] = value
    result = import_files(clean_files)
    assert_message(result.error_on(file, line)["message"], expected)


# --- an added ALSFRS-R row breaking one rule: rejected, the patient's two assessments kept ----------

ALSFRS_CASES = [
    pytest.param(
        "07/05/2025", {}, "assessment_date: '07/05/2025' is not a date in the form YYYY-MM-DD.", id="date-not-iso"
    ),
    pytest.param("2025-02-30", {}, ("'2025-02-30' is not a date",), id="impossible-date"),
    pytest.param(
        "2025-05-05",
        {"q5b_cutting_with_gastrostomy": "3"},
        ("Score item 5a (cutting food, no gastrostomy) or item 5b (with gastrostomy), not both",),
        id="both-5a-and-5b",
    ),
    pytest.param(
        "2025-05-05",
        {"q1_speech": "5"},
        (
            "q1_speech: Ensure this value is less than or equal to 4.",
            "1. Speech: the score must be from 0 to 4 (got 5).",
        ),
        id="item-out-of-range",
    ),
    pytest.param("2025-05-05", {"q8_walking": ""}, ("8. Walking: this item must be scored.",), id="unscored-item"),
    pytest.param(
        "2024-01-05",
        {},
        "assessment_date: This date precedes symptom onset (10 Mar 2024).",
        id="assessment-before-onset",
    ),
]


@pytest.mark.parametrize(("date", "items", "expected"), ALSFRS_CASES)
def test_a_bad_alsfrs_r_row_is_rejected_and_the_others_kept(clean_files, import_files, date, items, expected):
    line = add(clean_files, "alsfrs_r.csv", alsfrs_row("GB-LON-0001", date, **items))
    result = import_files(clean_files)
    error = result.error_on("alsfrs_r.csv", line)
    assert_message(error["message"], expected)
    if "q1_speech" in items:
        assert error["columns"] == "q1_speech"
    assert AlsfrsrAssessment.objects.filter(patient__study_id="GB-LON-0001").count() == 2
