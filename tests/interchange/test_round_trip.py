"""Export, import into an empty registry, export again: the files are identical byte for byte."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from access_programme.models import MISSED_DOSES_RULE, TreatmentCycle, cycle_findings
from interchange import rif
from interchange.exporter import export_cohort
from registry.models import ClinicalRecord, DataQuery, Patient, PatientIdentity, Site
from tests.factories import delete_every_dispensing
from tests.interchange.conftest import run_import

pytestmark = [pytest.mark.requirement("DAT-04"), pytest.mark.django_db]


def empty_the_registry() -> None:
    """Everything but the reference data (sites, routes, products), as in a new installation."""
    alert = apps.all_models["registry"].get("seriousadverseeventalert")
    if alert is not None:
        alert._default_manager.all().delete()
    DataQuery.objects.all().delete()
    delete_every_dispensing()
    for model in reversed([m for m in apps.get_models() if issubclass(m, ClinicalRecord)]):
        model._default_manager.all().delete()


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def seeded() -> None:
    # As of today: the registry refuses future dates and checks doses of finished cycles against today.
    seed_cohort(patients=40, seed=11, as_of=timezone.localdate())


def test_export_then_import_into_an_empty_registry_gives_back_the_same_files(seeded, tmp_path):
    first = export_cohort(tmp_path / "first")
    empty_the_registry()
    assert not Patient.objects.exists() and Site.objects.exists()
    imported = run_import(tmp_path / "first")
    assert imported.errors == []
    assert imported.outcome.report.totals.created == first.total_rows
    export_cohort(tmp_path / "second")
    assert files_of(tmp_path / "second") == files_of(tmp_path / "first")


def test_a_zip_export_imports_back_to_the_same_zip_contents(seeded, tmp_path):
    export_cohort(tmp_path / "cohort.zip")
    empty_the_registry()
    assert run_import(tmp_path / "cohort.zip").errors == []
    export_cohort(tmp_path / "again.zip")
    with zipfile.ZipFile(tmp_path / "cohort.zip") as one, zipfile.ZipFile(tmp_path / "again.zip") as two:
        assert sorted(one.namelist()) == sorted([rif.MANIFEST_NAME, *(spec.name for spec in rif.FILES)])
        assert {n: one.read(n) for n in one.namelist()} == {n: two.read(n) for n in two.namelist()}


def missed_dose_queries() -> set[tuple[str, int]]:
    cycles = dict(TreatmentCycle.objects.values_list("pk", "cycle_number"))
    return {
        (study_id, cycles[record_id])
        for study_id, record_id in DataQuery.objects.filter(rule=MISSED_DOSES_RULE).values_list(
            "patient__study_id", "record_id"
        )
    }


def test_a_cohort_exported_on_one_date_and_imported_weeks_later_loses_no_record(db, tmp_path):
    exported_on = timezone.localdate() - dt.timedelta(weeks=6)
    with time_machine.travel(dt.datetime.combine(exported_on, dt.time(12), tzinfo=dt.UTC), tick=False):
        seed_cohort(patients=40, seed=11, as_of=exported_on)
        first = export_cohort(tmp_path / "exported")
        due = {
            (cycle.patient.study_id, cycle.cycle_number)
            for cycle in TreatmentCycle.objects.select_related("patient")
            if cycle_findings(cycle, today=exported_on)
        }
    assert first.data_cutoff == exported_on
    empty_the_registry()

    imported = run_import(tmp_path / "exported")  # six weeks on: the rules judge on the cut-off

    assert imported.errors == []
    assert imported.outcome.report.totals.created == first.total_rows
    assert missed_dose_queries() == due  # what was due on the cut-off, not what six more weeks would add
    export_cohort(tmp_path / "again")
    manifest = rif.MANIFEST_NAME
    again = {name: data for name, data in files_of(tmp_path / "again").items() if name != manifest}
    assert again == {name: data for name, data in files_of(tmp_path / "exported").items() if name != manifest}


def test_importing_an_export_into_the_registry_it_came_from_changes_nothing(seeded, tmp_path):
    export_cohort(tmp_path / "cohort")
    again = run_import(tmp_path / "cohort")
    totals = again.outcome.report.totals
    assert (totals.created, totals.updated, totals.rejected) == (0, 0, 0)


def test_the_export_carries_no_identifiers(seeded, tmp_path):
    assert PatientIdentity.objects.exists()
    export_cohort(tmp_path / "cohort")
    headers = set()
    for path in (tmp_path / "cohort").iterdir():
        with path.open(encoding="utf-8", newline="") as handle:
            headers.update(next(csv.reader(handle)))
    assert not headers & rif.IDENTIFIER_COLUMNS
    text = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "cohort").iterdir())
    identity = PatientIdentity.objects.exclude(nhs_number="").first()
    assert identity.nhs_number not in text and identity.family_name not in text


def test_derived_alsfrs_r_columns_appear_in_exports_only(seeded, tmp_path):
    export_cohort(tmp_path / "cohort")
    with (tmp_path / "cohort" / "alsfrs_r.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[-7:] == ["total", "bulbar", "fine_motor", "gross_motor", "respiratory", "kings_stage", "mitos_stage"]
    assert "total" not in rif.ALSFRS_R.column_names


def test_patients_without_an_enrolment_are_left_out_and_named(sites, tmp_path):
    from tests.factories import PatientFactory

    PatientFactory(site=sites[0], study_id="GB-LON-0500")
    outcome = export_cohort(tmp_path / "cohort")
    assert outcome.patients_left_out == ["GB-LON-0500"]
    assert outcome.rows[rif.PATIENTS.name] == 0
