"""Each succeeded run archives a PDF report and an analysis package that never change afterwards:
the PDF carries the flow numbers and the estimates, the package's dataset matches the hash the
report prints, and its R script reproduces the primary estimate with the survival package."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pypdf
import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics.survival import services
from analytics.survival.models import AnalysisRun, ArchivedReportError, RunReport, RunStatus
from registry.db_roles import as_owner
from registry.models import Patient, Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def report():
    seed_cohort(patients=60, seed=21, as_of=timezone.localdate())
    run = services.survival_run_request(user=None, trigger="command", enqueue=False)
    services.survival_run_execute(run.pk)
    return RunReport.objects.select_related("run").get(run_id=run.pk)


def pdf_text(report: RunReport) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(bytes(report.pdf))).pages)


def package_files(report: RunReport) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bytes(report.package))) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def test_the_pdf_gives_every_step_of_the_patient_flow_with_its_number(report):
    text = pdf_text(report)
    for step in report.run.results["emulation"]["flow"]:
        assert f"{step['step']}\nn = {step['n']}" in text


def test_the_pdf_states_the_primary_estimate_sap_version_cut_off_and_code_version(report):
    text = " ".join(pdf_text(report).split())
    estimate = report.run.results["emulation"]["primary_analysis"]["estimate"]
    assert f"a standardised mortality ratio of {estimate['smr']:.2f} (95% CI {estimate['smr_ci_lower']:.2f} to" in text
    assert f"statistical analysis plan version {report.run.parameters['sap_version']}" in text
    assert report.run.parameters["data_cutoff"] in text
    assert report.code_version in text and report.code_version == report.run.library_versions["registry"]


def test_the_package_dataset_has_the_hash_the_report_prints(report):
    dataset = package_files(report)["analysis_dataset.csv"]
    digest = hashlib.sha256(dataset).hexdigest()
    assert digest == report.dataset_sha256
    assert digest in re.sub(r"\s", "", pdf_text(report))
    assert f"{digest}  analysis_dataset.csv" in package_files(report)["README.txt"].decode()


def test_the_package_dataset_is_pseudonymised(report):
    rows = list(csv.DictReader(io.StringIO(package_files(report)["analysis_dataset.csv"].decode())))
    study_ids = set(Patient.objects.values_list("study_id", flat=True))
    assert study_ids
    assert "patient_id" not in rows[0] and not any("date" in column for column in rows[0])
    assert not study_ids & {value for row in rows for value in row.values()}
    assert sum(int(row["in_primary"]) for row in rows) == report.run.results["emulation"]["flow"][-1]["n"]


def test_the_package_holds_dictionary_results_figures_report_and_r_script(report):
    names = set(package_files(report))
    assert {"data_dictionary.csv", "results.json", "reproduce.R", "report.pdf", "README.txt"} <= names
    for figure in ("km_primary", "forest_subgroups", "km_by_route", "km_by_pnfh_stratum"):
        assert {f"figures/{figure}.svg", f"figures/{figure}.png"} <= names


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R with the survival package (apt r-cran-survival)")
def test_the_r_script_reproduces_the_primary_estimate_to_1e_6(report, tmp_path: Path):
    for name, data in package_files(report).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    subprocess.run(["Rscript", "reproduce.R"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    with (tmp_path / "r_estimates.csv").open() as handle:
        r = {row["name"]: float(row["value"]) for row in csv.DictReader(handle)}
    primary = report.run.results["emulation"]["primary_analysis"]
    for name in ("observed", "expected", "smr", "smr_ci_lower", "smr_ci_upper", "p", "p_exact"):
        assert r[name] == pytest.approx(primary["estimate"][name], abs=1e-6), name
    at_365 = next(a for a in primary["km"]["at_times"] if a["time"] == 365)
    assert r["km_365"] == pytest.approx(at_365["survival"], abs=1e-6)
    assert r["km_365_ci_lower"] == pytest.approx(at_365["ci_lower"], abs=1e-6)


def test_the_report_and_package_download_as_archived(report, client):
    login_with_second_factor(client, UserFactory(role=Role.ANALYST))
    pdf = client.get(f"/analytics/survival/runs/{report.run_id}/report.pdf")
    package = client.get(f"/analytics/survival/runs/{report.run_id}/package.zip")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content == bytes(report.pdf)
    assert hashlib.sha256(package.content).hexdigest() == report.package_sha256


def _archived() -> RunReport:
    run = AnalysisRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=timezone.now(), results={})
    return RunReport.objects.create(
        run=run,
        code_version="abc",
        dataset_sha256="0" * 64,
        pdf=b"%PDF",
        pdf_sha256="1",
        package=b"PK",
        package_sha256="2",
    )


def test_a_run_without_an_archived_report_has_no_pdf(client):
    login_with_second_factor(client, UserFactory(role=Role.ANALYST))
    run = AnalysisRun.objects.create(status=RunStatus.SUCCEEDED, finished_at=timezone.now(), results={})
    assert client.get(f"/analytics/survival/runs/{run.pk}/report.pdf").status_code == 404


def test_an_archived_report_cannot_be_saved_again():
    report = _archived()
    report.code_version = "changed"
    with pytest.raises(ArchivedReportError):
        report.save()


def test_an_archived_report_cannot_be_deleted():
    with pytest.raises(ArchivedReportError):
        _archived().delete()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_database_refuses_to_change_an_archived_report_even_to_the_owner():
    report = _archived()
    with as_owner(), pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        RunReport.objects.filter(pk=report.pk).update(pdf=b"%PDF forged")
    assert bytes(RunReport.objects.get(pk=report.pk).pdf) == b"%PDF"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_app_role_may_not_update_archived_reports_at_all():
    report = _archived()
    with pytest.raises(DatabaseError), transaction.atomic():
        RunReport.objects.filter(pk=report.pk).update(code_version="forged")
