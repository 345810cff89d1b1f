"""Imports that cannot hurt the server (issue 14, item 4): limits enforced before parsing, a
report that grows with distinct problems only, and damaged or hostile files as clear file-level
errors while the good files still import."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from interchange.models import ImportRun, ImportStatus
from registry.models import AlsfrsrAssessment, Patient
from tests.interchange.conftest import CLEAN, read_cohort, run_import, write_cohort

pytestmark = pytest.mark.django_db

PATIENTS = 3  # in the clean fixture cohort


def zip_of(
    folder: Path, target: Path, replace: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    """The cohort's files in a zip, with some members' bytes replaced."""
    with zipfile.ZipFile(target, "w", compression=compression) as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.writestr(path.name, (replace or {}).get(path.name, path.read_bytes()))
    return target


def alsfrs_header() -> bytes:
    return (CLEAN / "alsfrs_r.csv").read_bytes().split(b"\n", 1)[0] + b"\n"


def file_error(imported, file: str) -> str:
    found = [issue["message"] for issue in imported.errors if issue["file"] == file]
    assert len(found) == 1, imported.errors
    return found[0]


def the_good_files_imported(imported) -> None:
    assert Patient.objects.count() == PATIENTS
    assert imported.counts("patients.csv")["created"] == PATIENTS


def test_a_line_longer_than_the_limit_refuses_its_file_before_parsing(sites, settings, tmp_path):
    settings.IMPORT_MAX_LINE_BYTES = 10_000
    cohort = zip_of(CLEAN, tmp_path / "c.zip", {"alsfrs_r.csv": alsfrs_header() + b"GB-LON-0001," + b"x" * 50_000})
    imported = run_import(cohort)
    message = file_error(imported, "alsfrs_r.csv")
    assert "line 2 is longer than the limit of 10,000 bytes (IMPORT_MAX_LINE_BYTES)" in message
    the_good_files_imported(imported)
    assert not AlsfrsrAssessment.objects.exists()


def test_a_zip_member_that_unpacks_far_beyond_its_packed_size_is_refused_unread(sites, tmp_path):
    bomb = alsfrs_header() + b",,,,,,,,,,,,,,,,\n" * 400_000  # about 7 MB from about 10 KB
    imported = run_import(zip_of(CLEAN, tmp_path / "c.zip", {"alsfrs_r.csv": bomb}))
    assert "(IMPORT_MAX_COMPRESSION_RATIO)" in file_error(imported, "alsfrs_r.csv")
    the_good_files_imported(imported)


def test_a_file_bigger_than_the_size_limit_is_refused(sites, settings, tmp_path):
    settings.IMPORT_MAX_FILE_BYTES = 200
    imported = run_import(zip_of(CLEAN, tmp_path / "c.zip", {"alsfrs_r.csv": alsfrs_header() + b"\n" * 300}))
    assert "more than the limit of 200 (IMPORT_MAX_FILE_BYTES)" in file_error(imported, "alsfrs_r.csv")
    assert Patient.objects.count() == 0  # patients.csv is over 200 bytes too


def test_a_folder_file_bigger_than_the_size_limit_is_refused_while_read(sites, settings, tmp_path):
    folder = shutil.copytree(CLEAN, tmp_path / "cohort")
    (folder / "alsfrs_r.csv").write_bytes(alsfrs_header() + b"\n" * 5_000)
    settings.IMPORT_MAX_FILE_BYTES = 4_000
    imported = run_import(folder)
    assert "larger than the limit of 4,000 bytes (IMPORT_MAX_FILE_BYTES)" in file_error(imported, "alsfrs_r.csv")
    the_good_files_imported(imported)


def test_a_file_with_more_rows_than_the_limit_is_refused(sites, settings, tmp_path):
    settings.IMPORT_MAX_ROWS_PER_FILE = 4
    files = read_cohort(CLEAN)
    assert len(files["alsfrs_r.csv"]) > 4 and len(files["patients.csv"]) <= 4
    imported = run_import(write_cohort(tmp_path / "cohort", files))
    assert "more than 4 rows, the limit (IMPORT_MAX_ROWS_PER_FILE)" in file_error(imported, "alsfrs_r.csv")
    the_good_files_imported(imported)


def test_a_nul_byte_refuses_its_file_and_the_others_import(sites, tmp_path):
    folder = shutil.copytree(CLEAN, tmp_path / "cohort")
    text = (folder / "biomarkers.csv").read_bytes()
    (folder / "biomarkers.csv").write_bytes(text.replace(b"GB-LON", b"GB\x00LON", 1))
    imported = run_import(folder)
    assert "holds a NUL byte (line 2)" in file_error(imported, "biomarkers.csv")
    the_good_files_imported(imported)
    assert AlsfrsrAssessment.objects.exists()


def test_an_encrypted_zip_member_is_a_file_error_not_a_crash(sites, tmp_path):
    folder = shutil.copytree(CLEAN, tmp_path / "cohort")
    target = tmp_path / "c.zip"
    subprocess.run(["zip", "-q", "-j", str(target), str(folder / "patients.csv")], check=True)
    subprocess.run(["zip", "-q", "-j", "-P", "secret", str(target), str(folder / "alsfrs_r.csv")], check=True)
    imported = run_import(target)
    assert "alsfrs_r.csv cannot be read (it is encrypted" in file_error(imported, "alsfrs_r.csv")
    the_good_files_imported(imported)


def test_a_zip_member_with_a_bad_crc_is_a_file_error(sites, tmp_path):
    target = zip_of(CLEAN, tmp_path / "c.zip", compression=zipfile.ZIP_STORED)
    data = bytearray(target.read_bytes())
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo("alsfrs_r.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    position = data.index(b"GB-LON-0001", start)
    data[position + 3 : position + 6] = b"SHF"  # same length, still valid CSV: only the CRC tells
    target.write_bytes(bytes(data))
    imported = run_import(target)
    assert "alsfrs_r.csv cannot be read (the zip is damaged: Bad CRC-32" in file_error(imported, "alsfrs_r.csv")
    the_good_files_imported(imported)


def test_a_zip_member_in_an_unsupported_compression_method_is_a_file_error(sites, tmp_path):
    target = zip_of(CLEAN, tmp_path / "c.zip")
    data = bytearray(target.read_bytes())
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo("alsfrs_r.csv")
    data[info.header_offset + 8 : info.header_offset + 10] = (99).to_bytes(2, "little")  # local header method
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")  # central directory method
    target.write_bytes(bytes(data))
    imported = run_import(target)
    assert "alsfrs_r.csv cannot be read" in file_error(imported, "alsfrs_r.csv")
    the_good_files_imported(imported)


def test_a_damaged_zip_is_a_clear_command_error_without_a_traceback(sites, tmp_path):
    target = zip_of(CLEAN, tmp_path / "c.zip")
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2] + data[-22:])  # the end record kept, the directory gone
    with pytest.raises(CommandError) as refused:
        call_command("import_cohort", str(target), "--no-progress", stdout=io.StringIO())
    assert "c.zip" in str(refused.value)


def test_the_command_reports_a_nul_byte_as_a_file_error_and_finishes(sites, tmp_path):
    folder = shutil.copytree(CLEAN, tmp_path / "cohort")
    (folder / "events.csv").write_bytes((folder / "events.csv").read_bytes() + b"\x00\n")
    out = io.StringIO()
    call_command("import_cohort", str(folder), "--no-progress", stdout=out)
    assert "events.csv holds a NUL byte" in out.getvalue()
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED and Patient.objects.count() == PATIENTS


def test_repeats_of_one_problem_on_successive_rows_are_one_line_of_the_report(sites, tmp_path):
    folder = shutil.copytree(CLEAN, tmp_path / "cohort")
    width = alsfrs_header().count(b",")
    with (folder / "alsfrs_r.csv").open("ab") as handle:
        handle.write((b"," * width + b"\n") * 5_000)
    imported = run_import(folder)
    empty = [issue for issue in imported.warnings if issue["file"] == "alsfrs_r.csv"]
    assert [issue["message"] for issue in empty] == ["lines 7-5,006 (5,000 rows): empty row ignored."]


def test_the_report_lists_a_bounded_number_of_issues_per_file_and_counts_the_rest(sites, settings, tmp_path):
    settings.IMPORT_REPORT_MAX_ISSUES_PER_FILE = 2
    files = read_cohort(CLEAN)
    for row in files["alsfrs_r.csv"]:
        row["q1_speech"] = "9"
    imported = run_import(write_cohort(tmp_path / "cohort", files))
    listed = [issue for issue in imported.issues if issue["file"] == "alsfrs_r.csv"]
    assert [issue["severity"] for issue in listed] == ["error", "error", "note"]
    assert listed[-1]["message"].startswith(f"{len(files['alsfrs_r.csv']) - 2} more issue(s) in this file")
    assert imported.outcome.report.errors == len(files["alsfrs_r.csv"])
