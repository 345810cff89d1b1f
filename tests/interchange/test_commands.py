"""`import_cohort` and `export_cohort` from the command line: summary, report, exit status."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from interchange.models import ImportRun, ImportStatus
from registry.models import Patient
from tests.interchange.conftest import CLEAN, write_cohort

pytestmark = pytest.mark.django_db


def test_import_command_prints_the_summary_and_records_the_run(sites):
    out = io.StringIO()
    call_command("import_cohort", str(CLEAN), "--no-progress", stdout=out)
    text = out.getvalue()
    assert "patients.csv" in text and "0 rejected" in text
    run = ImportRun.objects.get()
    assert (run.status, run.rows_created, run.rows_rejected, run.created_by) == (ImportStatus.SUCCEEDED, 30, 0, None)
    assert run.file_counts["alsfrs_r.csv"]["created"] == 5
    assert Patient.objects.count() == 3


def test_import_command_lists_rejected_rows_and_writes_the_report_where_asked(sites, clean_files, tmp_path):
    clean_files["patients.csv"][1]["sex"] = "M"
    folder = write_cohort(tmp_path / "bad", clean_files)
    out = io.StringIO()
    call_command("import_cohort", str(folder), "--no-progress", "--report", str(tmp_path / "report.csv"), stdout=out)
    assert "patients.csv:3 [GB-LON-0002] sex: 'M' is not one of: male, female." in out.getvalue()
    with (tmp_path / "report.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0] == {
        "severity": "error",
        "file": "patients.csv",
        "line": "3",
        "key": "GB-LON-0002",
        "columns": "sex",
        "message": "sex: 'M' is not one of: male, female.",
    }
    assert ImportRun.objects.get().rows_rejected == len([r for r in rows if r["severity"] == "error"])


def test_import_command_fails_on_a_path_that_is_not_a_cohort(sites, tmp_path):
    with pytest.raises(CommandError, match=r"No patients\.csv"):
        call_command("import_cohort", str(tmp_path), "--no-progress", stdout=io.StringIO())
    assert ImportRun.objects.get().status == ImportStatus.FAILED


def test_import_command_shows_a_progress_bar(sites):
    err = io.StringIO()
    call_command("import_cohort", str(CLEAN), stdout=io.StringIO(), stderr=err)
    assert "rows" in err.getvalue()


def test_export_command_writes_a_zip_when_asked_for_one(sites, tmp_path):
    import zipfile

    call_command("import_cohort", str(CLEAN), "--no-progress", stdout=io.StringIO())
    out = io.StringIO()
    call_command("export_cohort", str(tmp_path / "cohort.zip"), stdout=out)
    assert "Exported 30 rows" in out.getvalue()
    with zipfile.ZipFile(tmp_path / "cohort.zip") as archive:
        assert "patients.csv" in archive.namelist()
        assert archive.read("patients.csv").decode().count("\n") == 4
