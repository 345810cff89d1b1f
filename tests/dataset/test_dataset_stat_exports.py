"""Statistics-package bundles: Stata and SPSS read back with their labels, SAS transport v5, the R
script, the dictionary in every zip, no identifiers, and every export logged."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from django.core.management import call_command

from analytics import bundles, dataset, labels, stat_files
from analytics.models import ExportLog
from registry import services
from tests.factories import days_ago

pytestmark = [pytest.mark.requirement("EXP-01"), pytest.mark.django_db]


def unpack(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
    return into


@pytest.fixture
def bundle(world, full_patient, tmp_path):
    """Write a bundle of a table for the analyst and unpack it; returns the folder. `bundle.patient`
    has a row in every table (CSF pNFH 1800 pg/mL 5 days before enrolment)."""
    patient = full_patient(world.london)

    def make(file_format: str, table: str = "patients") -> Path:
        target = tmp_path / f"{table}_{file_format}.zip"
        bundles.write_bundle(
            table=table, file_format=file_format, user=world.analyst, target=target, channel=ExportLog.Channel.WEB
        )
        return unpack(target, tmp_path / f"{table}_{file_format}")

    make.patient = patient
    return make


def test_a_stata_file_reads_back_with_its_value_labels(bundle, world):
    data, meta = pyreadstat.read_dta(bundle("dta") / "patients.dta")
    route_labels = meta.variable_value_labels["route"]
    assert route_labels == {
        1: "Managed Access Programme (ILT-101)",
        2: "NHS Specials (reconstituted Proleukin)",
        3: "Registry only (untreated comparator)",
    }
    row = data.set_index("patient_id").loc[world.london_patient.study_id]
    assert route_labels[int(row["route"])] == "NHS Specials (reconstituted Proleukin)"
    assert meta.variable_value_labels["bulbar_onset"] == {0: "No", 1: "Yes"}


def test_a_stata_file_carries_each_columns_definition_as_its_variable_label(bundle):
    _, meta = pyreadstat.read_dta(bundle("dta") / "patients.dta", metadataonly=True)
    labels_by_name = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels_by_name["os_event"] == "1 = died, 0 = censored alive. [0/1]"
    assert all(0 < len(label) <= stat_files.STATA_LABEL_MAX for label in meta.column_labels)


def test_an_spss_file_reads_back_with_its_value_labels_applied(bundle, world):
    data, meta = pyreadstat.read_sav(bundle("sav") / "patients.sav", apply_value_formats=True)
    row = data.set_index("patient_id").loc[bundle.patient.study_id]
    assert row["route"] == "NHS Specials (reconstituted Proleukin)"
    assert row["pnfh_stratum"] == "CSF pNFH 750-3700 pg/mL (MIROCALS low)"  # 1800 pg/mL, 5 days before enrolment
    assert meta.column_names_to_labels["sex"] == "male or female."
    assert meta.variable_measure["route"] == "nominal" and meta.variable_measure["os_time_days"] == "scale"


def test_dates_and_missing_values_survive_the_stata_round_trip(bundle, world):
    data, _ = pyreadstat.read_dta(bundle("dta") / "patients.dta")
    row = data.set_index("patient_id").loc[bundle.patient.study_id]
    assert row["time_origin_date"].date() == days_ago(84)
    assert pd.isna(row["alsfrs_r_baseline"])  # the only assessment is outside the baseline window


def test_sas_transport_is_version_5_with_short_names_and_the_full_name_as_label(bundle):
    folder = bundle("xpt")
    _, meta = pyreadstat.read_xport(folder / "patients.xpt")
    assert meta.table_name == "PATIENTS"
    assert all(len(name) <= 8 for name in meta.column_names)
    assert meta.column_labels == [c.name for c in dataset.PATIENT_COLUMNS]
    dictionary = pd.read_csv(folder / "dictionary.csv")
    assert dict(zip(dictionary["column"], dictionary["sas_name"], strict=True))["alsfrs_r_slope_per_month"] in (
        meta.column_names
    )
    assert "value $ROUTEF" in (folder / "patients_formats.sas").read_text()


def test_sas_transport_refuses_text_longer_than_version_5_holds(world, full_patient, tmp_path):
    patient = full_patient(world.london)
    services.adverse_event_record(
        actor=None, patient=patient, term="é" * 150, onset_date=days_ago(30), ctcae_grade=1, relatedness="possible"
    )
    with pytest.raises(stat_files.ExportError, match=r"adverse_events\.term holds text longer than the 200 bytes"):
        bundles.write_bundle(
            table="adverse_events",
            file_format="xpt",
            user=world.analyst,
            target=tmp_path / "ae.zip",
            channel=ExportLog.Channel.WEB,
        )


def test_a_coded_value_without_a_label_stops_the_export():
    frame = pd.DataFrame({"event_type": ["death", "abducted_by_aliens"]})
    columns = [c for c in dataset.TABLES["events"] if c.name == "event_type"]
    with pytest.raises(
        stat_files.ExportError, match=r"events\.event_type: the value 'abducted_by_aliens' has no label"
    ):
        stat_files.typed_frame(frame, columns, labels.value_labels("events"), "events")


@pytest.mark.parametrize(
    ("file_format", "data_files"),
    [
        ("dta", {"patients.dta"}),
        ("sav", {"patients.sav"}),
        ("xpt", {"patients.xpt", "patients_formats.sas"}),
        ("r", {"patients.csv", "read_patients.R"}),
    ],
)
def test_every_bundle_carries_the_data_dictionary_and_value_labels(bundle, file_format, data_files):
    folder = bundle(file_format)
    assert {p.name for p in folder.iterdir()} == {
        *data_files,
        "dictionary.csv",
        "dictionary.md",
        "value_labels.csv",
        "README.txt",
    }
    dictionary = pd.read_csv(folder / "dictionary.csv")
    assert list(dictionary["column"]) == [c.name for c in dataset.PATIENT_COLUMNS]
    value_labels = pd.read_csv(folder / "value_labels.csv", dtype=str)
    route = value_labels[value_labels["column"] == "route"]
    assert list(route["value"]) == ["managed_access", "nhs_specials", "none"] and list(route["code"]) == ["1", "2", "3"]


def test_the_readme_gives_the_sha256_of_the_data_file(bundle):
    import hashlib

    folder = bundle("sav")
    digest = hashlib.sha256((folder / "patients.sav").read_bytes()).hexdigest()
    assert f"SHA-256 of patients.sav: {digest}" in (folder / "README.txt").read_text()


@pytest.mark.parametrize("file_format", list(bundles.BUNDLE_FORMATS))
def test_an_analysts_bundle_holds_no_identifiers(bundle, world, file_format):
    folder = bundle(file_format)
    blob = b"".join(path.read_bytes() for path in folder.iterdir())
    for identifier in ("9434765919", "Margaret", "Testperson", "Bartholomew"):
        assert identifier.encode() not in blob, identifier


def test_every_bundle_is_logged_with_its_row_count(bundle):
    bundle("dta", table="alsfrs_r")
    log = ExportLog.objects.get(table="alsfrs_r", file_format="dta")
    assert log.completed and log.row_count == 1 and log.username == "analyst"


def test_the_long_tables_write_in_every_format(bundle):
    for table in dataset.LONG_TABLE_COLUMNS:
        for file_format in bundles.BUNDLE_FORMATS:
            assert any(bundle(file_format, table=table).iterdir())


def test_the_command_writes_a_stata_bundle(world, full_patient, tmp_path):
    full_patient(world.london)
    out = io.StringIO()
    call_command("export_dataset", "--format", "dta", str(tmp_path / "p.zip"), stdout=out)
    assert "Wrote 3 rows of patients for Stata (.dta)" in out.getvalue()  # two of the world, one full
    data, _ = pyreadstat.read_dta(unpack(tmp_path / "p.zip", tmp_path / "p") / "patients.dta")
    assert len(data) == 3


def test_the_r_script_reads_the_csv_with_factor_labels(bundle, world):
    rscript = shutil.which("Rscript")
    assert rscript, "Rscript is needed (apt-get install r-base-core)"
    folder = bundle("r")
    code = (
        f'source("read_patients.R"); row <- patients[patients$patient_id == "{bundle.patient.study_id}", ]; '
        "cat(as.character(row$route), class(row$time_origin_date), as.character(row$pnfh_stratum), "
        'attr(patients$os_event, "label"), sep = "|")'
    )
    result = subprocess.run([rscript, "-e", code], cwd=folder, capture_output=True, text=True, check=True)
    assert result.stdout.split("|") == [
        "NHS Specials (reconstituted Proleukin)",
        "Date",
        "CSF pNFH 750-3700 pg/mL (MIROCALS low)",
        "1 = died, 0 = censored alive. [0/1]",
    ]


def test_the_r_script_refuses_a_code_it_has_no_label_for(bundle):
    rscript = shutil.which("Rscript")
    assert rscript, "Rscript is needed (apt-get install r-base-core)"
    folder = bundle("r")
    csv_path = folder / "patients.csv"
    csv_path.write_text(csv_path.read_text().replace("nhs_specials", "teleported"))
    result = subprocess.run([rscript, "read_patients.R"], cwd=folder, capture_output=True, text=True)
    assert result.returncode != 0 and "route holds values without a label: teleported" in result.stderr
