"""Importing with worker processes gives what one process gives: records, history and report.

Workers need committed data and their own connections, hence PostgreSQL and a transactional
test: the cohort is imported by one process, exported and the tables emptied, then imported
again by two workers and exported again. The odd workers read the pharmacy's files first, so
that order is compared with the usual one too.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from access_programme.models import MISSED_DOSES_RULE, Batch, Enrolment, TreatmentCycle
from interchange import parallel as parallel_import
from interchange import rif
from interchange.exporter import export_cohort
from interchange.importer import ImportContext, ImportOutcome, Part, Tracker, import_files
from interchange.reader import CohortSource
from interchange.report import ImportReport
from registry.db_roles import as_owner
from registry.models import ClinicalRecord, DataQuery, Patient, Site
from tests.interchange.conftest import Imported, read_cohort, run_import, write_cohort

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COPIES = 8


def _cohort(folder: Path) -> Path:
    """The clean cohort's patients copied under new ids, and a few rows broken on purpose."""
    clean = read_cohort()
    files: dict[str, list[dict[str, str]]] = {name: [] for name in clean}
    for copy in range(COPIES):
        for name, rows in clean.items():
            for row in rows:
                new = dict(row)
                site, number = row["patient_id"].rsplit("-", 1)
                new["patient_id"] = f"{site}-{copy + 1}{number}"
                files[name].append(new)
    files["patients.csv"][3]["site_code"] = "XX-NOPE"  # its patient's rows are rejected everywhere
    files["alsfrs_r.csv"].append(dict(files["alsfrs_r.csv"][7]))  # a duplicate
    files["cycles.csv"][9]["days_administered"] = "9"  # rejected, and so its dispensing
    files["biomarkers.csv"][2]["unit"] = "furlongs"
    # a death before the third cycle: that cycle, its supply and the later records are rejected
    death = {"patient_id": "GB-LON-10001", "event_date": "2025-03-01", "event_type": "death", "detail": "ALS"}
    files["events.csv"].append(death)
    for row in files["events.csv"]:
        row["extra"] = "x"  # an unknown column: one warning, whatever the number of workers
    return write_cohort(folder, files)


def _snapshot(tmp_path: Path, name: str, result: Imported) -> dict[str, object]:
    folder = tmp_path / name
    export_cohort(folder)
    history = {
        model.__name__: sorted(
            model.history.values_list("history_type", "history_change_reason").distinct()  # type: ignore[attr-defined]
        )
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord)
    }
    creations = {
        model.__name__: (model._default_manager.count(), model.history.filter(history_type="+").count())  # type: ignore[attr-defined]
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord)
    }
    # The created batch's warning gives the date it was received on when created, which
    # depends on which chunk created it; its stock and received-on date in the table do not.
    issues = sorted(
        tuple(re.sub(r"its first dispensing, [\d-]+", "its first dispensing, …", value) for value in issue.values())
        for issue in result.issues
    )
    batches = list(
        Batch.objects.order_by("batch_number").values_list(
            "batch_number", "received_on", "quantity_received", "quantity_remaining"
        )
    )
    return {
        "files": {path.name: path.read_bytes() for path in sorted(folder.iterdir())},
        "counts": {name: counts.as_dict() for name, counts in result.outcome.report.files.items()},
        "issues": issues,
        "history": history,
        "creations": creations,
        "batches": batches,
        "sites": list(Site.objects.order_by("code").values_list("code", "next_patient_number")),
        "queries": sorted(
            DataQuery.objects.values_list("patient__study_id", "rule", "field_name", "message", "status")
        ),
        "follow_up": sorted(Enrolment.objects.values_list("patient__study_id", "next_cycle_due", "next_alsfrsr_due")),
    }


def _empty_the_registry() -> None:
    tables = [Patient._meta.db_table, Batch._meta.db_table, Batch.history.model._meta.db_table]
    tables += [
        model.history.model._meta.db_table  # type: ignore[attr-defined]
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord)
    ]
    with as_owner(), connection.cursor() as cursor:  # the app role may not empty the audit trail
        cursor.execute(f"TRUNCATE {', '.join(dict.fromkeys(tables))} CASCADE")
    Site.objects.update(next_patient_number=1)


def test_two_workers_import_exactly_what_one_process_imports(tmp_path):
    Site.objects.create(code="GB-LON", name="London MND Care Centre")
    Site.objects.create(code="GB-SHF", name="Sheffield MND Care Centre")
    cohort = _cohort(tmp_path / "cohort")
    owners = {Part(i, 2).owns(row["patient_id"]) for i in range(2) for row in read_cohort(cohort)["patients.csv"]}
    assert owners == {True, False}  # both workers have patients

    single = run_import(cohort, chunk_size=7)
    assert single.errors and single.outcome.report.totals.created
    expected = _snapshot(tmp_path, "single", single)
    _empty_the_registry()

    assert parallel_import.possible()
    parallel = run_import(cohort, chunk_size=7, workers=2)
    assert _snapshot(tmp_path, "parallel", parallel) == expected
    assert [i["message"] for i in parallel.warnings].count("unknown column 'extra' was ignored.") == 1

    again = run_import(cohort, chunk_size=7, workers=2)
    totals = again.outcome.report.totals
    assert (totals.created, totals.updated) == (0, 0)


def _import_in_order(cohort: Path, order: tuple[rif.FileSpec, ...]) -> Imported:
    """One process reading the files in `order`, as a worker reads its share."""
    stream = io.StringIO()
    report = ImportReport(stream)
    with CohortSource(cohort) as source:
        scans = {name: source.scan(name) for name in source.names}
        import_files(source, scans, ImportContext.load(report, None), Tracker(0, None), chunk_size=7, order=order)
    report.finish()
    stream.seek(0)
    return Imported(ImportOutcome(report, 0.0, report.totals.read), list(csv.DictReader(stream)))


def test_the_pharmacy_files_first_import_exactly_what_the_usual_order_imports(tmp_path):
    Site.objects.create(code="GB-LON", name="London MND Care Centre")
    Site.objects.create(code="GB-SHF", name="Sheffield MND Care Centre")
    cohort = _cohort(tmp_path / "cohort")

    usual = _import_in_order(cohort, rif.FILES)
    assert usual.errors and usual.outcome.report.files[rif.DISPENSING.name].created
    assert DataQuery.objects.exists() and Enrolment.objects.exclude(next_alsfrsr_due=None).exists()
    expected = _snapshot(tmp_path, "usual", usual)
    _empty_the_registry()

    pharmacy_first = _import_in_order(cohort, rif.PHARMACY_FIRST)
    assert _snapshot(tmp_path, "pharmacy_first", pharmacy_first) == expected


def test_each_patient_belongs_to_exactly_one_worker():
    ids = [f"GB-LON-{n:04d}" for n in range(1000)]
    for count in (2, 3, 4):
        shares = [sum(Part(index, count).owns(i) for i in ids) for index in range(count)]
        assert sum(shares) == len(ids)
        assert min(shares) > len(ids) / count * 0.8  # roughly even


def test_workers_judge_the_rules_on_the_files_data_cutoff(tmp_path):
    Site.objects.create(code="GB-LON", name="London MND Care Centre")
    Site.objects.create(code="GB-SHF", name="Sheffield MND Care Centre")
    files = read_cohort()
    files[rif.MANIFEST_NAME] = [{"format": "RIF", "version": str(rif.FORMAT_VERSION), "data_cutoff": "2025-10-02"}]
    files["events.csv"].append(
        {"patient_id": "GB-SHF-0001", "event_date": "2025-10-03", "event_type": "niv_start", "detail": ""}
    )
    files["cycles.csv"].append(  # being dosed on the cut-off: two of five days given so far
        {
            "patient_id": "GB-LON-0001",
            "cycle_number": "4",
            "start_date": "2025-10-01",
            "planned_dose_miu": "2",
            "days_administered": "2",
            "total_dose_miu": "4",
            "interrupted": "no",
            "interruption_reason": "",
        }
    )
    assert parallel_import.possible()
    result = run_import(write_cohort(tmp_path / "cohort", files), workers=2)

    assert [(e["file"], e["message"]) for e in result.errors] == [
        ("events.csv", "event_date: This date is after the data cut-off (02 Oct 2025).")
    ]
    assert TreatmentCycle.objects.filter(patient__study_id="GB-LON-0001", cycle_number=4).exists()
    assert not DataQuery.objects.filter(rule=MISSED_DOSES_RULE).exists()
