"""The format is versioned: manifest.csv names the version and the data cut-off (docs/interchange.md, "Versions").

The cut-off is the "today" of the rules on import: a date after it is refused as after the
cut-off, and a cycle still being dosed on it has missed no dose. A cohort without a manifest is
RIF v1 and imports as before; a version the registry does not read stops the import with one
message saying how to convert it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from access_programme.models import MISSED_DOSES_RULE, TreatmentCycle
from interchange import rif
from interchange.exporter import export_cohort
from interchange.manifest import ManifestError
from interchange.models import ImportRun, ImportStatus
from registry.models import AdverseEvent, DataQuery, Patient, SafetyCase, SeriousAdverseEventAlert
from tests.interchange.conftest import CLEAN, run_import, write_cohort

pytestmark = pytest.mark.django_db

#: The day after the clean cohort's last record (a last-known-alive on 2025-10-01).
CUTOFF = "2025-10-02"


def manifest(version: str = str(rif.FORMAT_VERSION), data_cutoff: str = CUTOFF, fmt: str = "RIF") -> list[dict]:
    return [{"format": fmt, "version": version, "data_cutoff": data_cutoff}]


def cycle_under_way(start: str) -> dict[str, str]:
    """GB-LON-0001's fourth cycle, two of its five dosing days given so far."""
    return {
        "patient_id": "GB-LON-0001",
        "cycle_number": "4",
        "start_date": start,
        "planned_dose_miu": "2",
        "days_administered": "2",
        "total_dose_miu": "4",
        "interrupted": "no",
        "interruption_reason": "",
    }


def notes_on_the_manifest(imported) -> list[str]:
    return [i["message"] for i in imported.issues if i["file"] == rif.MANIFEST_NAME]


def test_an_export_names_this_version_and_today_as_its_data_cutoff(sites, tmp_path):
    outcome = export_cohort(tmp_path / "cohort")
    with (tmp_path / "cohort" / rif.MANIFEST_NAME).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    today = timezone.localdate()
    assert rows == [["format", "version", "data_cutoff"], ["RIF", str(rif.FORMAT_VERSION), today.isoformat()]]
    assert outcome.data_cutoff == today


def test_a_cohort_without_a_manifest_imports_as_version_1_and_says_so(sites):
    imported = run_import(CLEAN)
    assert imported.errors == [] and Patient.objects.count() == 3
    (note,) = notes_on_the_manifest(imported)
    assert note.startswith("no manifest.csv: read as RIF v1") and "the day of this import" in note


def test_a_manifest_gives_the_cutoff_the_report_names(clean_files, import_files):
    imported = import_files({**clean_files, rif.MANIFEST_NAME: manifest()})
    assert imported.errors == []
    assert rif.MANIFEST_NAME not in imported.outcome.report.files  # not a data file: no counts
    assert notes_on_the_manifest(imported) == [
        f"RIF v2, data cut-off {CUTOFF}: the rules that depend on today (a date in the future, doses missed) "
        "were judged on that day."
    ]


def test_a_cycle_being_dosed_on_the_cutoff_raises_no_missed_dose_query(clean_files, import_files):
    clean_files["cycles.csv"].append(cycle_under_way("2025-10-01"))
    imported = import_files({**clean_files, rif.MANIFEST_NAME: manifest()})
    assert imported.errors == []
    cycle = TreatmentCycle.objects.get(patient__study_id="GB-LON-0001", cycle_number=4)
    assert not DataQuery.objects.filter(record_id=cycle.pk, rule=MISSED_DOSES_RULE).exists()


def test_the_same_cycle_without_a_cutoff_is_kept_with_a_missed_dose_query(clean_files, import_files):
    clean_files["cycles.csv"].append(cycle_under_way("2025-10-01"))
    imported = import_files(clean_files)  # RIF v1: judged today, long after its dosing days
    assert imported.errors == []
    cycle = TreatmentCycle.objects.get(patient__study_id="GB-LON-0001", cycle_number=4)
    query = DataQuery.objects.get(record_id=cycle.pk, rule=MISSED_DOSES_RULE)
    assert query.message.startswith("3 dose(s) missed")


def test_a_serious_event_under_a_past_cutoff_raises_its_alert_and_opens_its_case_today(clean_files, import_files):
    imported = import_files({**clean_files, rif.MANIFEST_NAME: manifest()})
    assert imported.errors == []
    event = AdverseEvent.objects.get(patient__study_id="GB-LON-0002", term="Aspiration pneumonia")
    assert SeriousAdverseEventAlert.objects.filter(adverse_event=event).exists()
    # The registry learnt of it today: its own records are judged on today, the file's on the cut-off.
    assert timezone.localtime(SafetyCase.objects.get(adverse_event=event).aware_at).date() == timezone.localdate()


def test_a_record_dated_after_the_cutoff_is_refused_with_the_cutoff_named(clean_files, import_files):
    clean_files["events.csv"].append(
        {"patient_id": "GB-SHF-0001", "event_date": "2025-10-03", "event_type": "niv_start", "detail": ""}
    )
    imported = import_files({**clean_files, rif.MANIFEST_NAME: manifest()})
    refused = imported.error_on("events.csv", 7)["message"]
    assert refused == "event_date: This date is after the data cut-off (02 Oct 2025)."
    assert Patient.objects.count() == 3


def test_a_newer_version_stops_the_import_with_how_to_convert_it(clean_files, import_files):
    with pytest.raises(ManifestError) as stopped:
        import_files({**clean_files, rif.MANIFEST_NAME: manifest(version="3")})
    assert str(stopped.value) == (
        "manifest.csv says the cohort is RIF v3; this registry reads RIF v1, RIF v2. Nothing was imported. "
        "Export the cohort again as RIF v2 (the changes between versions are listed in docs/interchange.md, "
        "'Versions'), or import it into a registry that reads its version."
    )
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (manifest(data_cutoff=""), "data_cutoff is empty: give the date the data were complete to"),
        (manifest(data_cutoff="02/10/2025"), "data_cutoff: '02/10/2025' is not a date in the form YYYY-MM-DD"),
        (manifest(version="two"), "version 'two' is not a whole number"),
        (manifest(fmt="CSV"), "format 'CSV' is not RIF, the registry interchange format"),
        (manifest() * 2, "it holds 3 non-empty row(s), not a header and one row"),
        ([{"format": "RIF", "version": "2"}], "its header must name format, version, data_cutoff, with one value each"),
    ],
    ids=["no cut-off", "cut-off not ISO", "version not a number", "another format", "two rows", "no cut-off column"],
)
def test_an_unreadable_manifest_stops_the_import_saying_what_a_manifest_is(clean_files, import_files, rows, problem):
    with pytest.raises(ManifestError) as stopped:
        import_files({**clean_files, rif.MANIFEST_NAME: rows})
    assert str(stopped.value) == (
        f"manifest.csv cannot be read: {problem}. Nothing was imported. A manifest is a header and one row: "
        "format,version,data_cutoff then RIF,2,YYYY-MM-DD (the data cut-off); a cohort of RIF v1 has no manifest."
    )
    assert not Patient.objects.exists()


def test_a_cutoff_in_the_future_stops_the_import(clean_files, import_files):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ManifestError, match=rf"data_cutoff {tomorrow} is in the future\. Nothing was imported\."):
        import_files({**clean_files, rif.MANIFEST_NAME: manifest(data_cutoff=tomorrow)})


def test_the_command_fails_with_the_manifest_message_and_records_the_failed_run(sites, clean_files, tmp_path):
    folder = write_cohort(tmp_path / "newer", {**clean_files, rif.MANIFEST_NAME: manifest(version="9")})
    with pytest.raises(CommandError, match=r"manifest\.csv says the cohort is RIF v9"):
        call_command("import_cohort", str(folder), "--no-progress", stdout=io.StringIO())
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED and "Export the cohort again as RIF v2" in run.error
