"""The analysts' survival dashboard, downloads and the command line."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics.survival import services
from analytics.survival.models import AnalysisRun, Benchmark, RunStatus
from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed_run():
    """One computed run on a small seeded cohort."""
    seed_cohort(patients=60, seed=21, as_of=timezone.localdate())
    run = services.survival_run_request(user=None, trigger="command", enqueue=False)
    services.survival_run_execute(run.pk)
    return AnalysisRun.objects.get(pk=run.pk)


@pytest.fixture
def analyst_client(client):
    login_with_second_factor(client, UserFactory(username="dev", role=Role.ANALYST))
    return client


def test_the_dashboard_shows_estimates_with_n_events_ci_caveats_and_provenance(completed_run, analyst_client):
    page = analyst_client.get("/analytics/survival/").content.decode()
    assert f"Provenance of run {completed_run.pk}" in page
    assert "Read these results with their caveats" in page
    assert "Real-world, non-randomised data" in page
    assert "Survival at 640 days (95% CI)" in page
    assert "MIROCALS HR for death, CSF pNFH 750-3700 pg/mL" in page
    assert "<svg" in page


def test_clinicians_cannot_open_the_dashboard(client):
    login_with_second_factor(client, UserFactory(role=Role.CLINICIAN, sites=[SiteFactory()]))
    assert client.get("/analytics/survival/").status_code == 403


def test_json_download_carries_provenance_and_results(completed_run, analyst_client):
    response = analyst_client.get(f"/analytics/survival/runs/{completed_run.pk}/results.json")
    body = json.loads(response.content)
    assert body["provenance"]["snapshot_hash"] == completed_run.snapshot_hash
    assert body["results"]["cohort"]["n"] == 60


def test_hazard_ratio_csv_has_one_row_per_trial_hazard_ratio(completed_run, analyst_client):
    response = analyst_client.get(f"/analytics/survival/runs/{completed_run.pk}/tables/hazard_ratios.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = Benchmark.objects.filter(is_current=True, kind="hazard_ratio").count()
    assert len(rows) == expected
    assert {"trial_hr", "registry_hr", "registry_ci_lower", "registry_n", "trial_provenance"} <= set(rows[0])


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_figures_download_as_svg_and_png(completed_run, analyst_client, fmt):
    response = analyst_client.get(f"/analytics/survival/runs/{completed_run.pk}/figures/km_by_route.{fmt}")
    assert response.status_code == 200
    assert response["Content-Type"] == ("image/svg+xml" if fmt == "svg" else "image/png")
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n" if fmt == "png" else b"<svg" in response.content


def test_the_report_is_a_self_contained_html_with_caveats_and_sources(completed_run, analyst_client):
    html = analyst_client.get(f"/analytics/survival/runs/{completed_run.pk}/report.html").content.decode()
    assert "<svg" in html
    assert "Read these results with their caveats" in html
    assert "PMID 40354799" in html
    assert "<script" not in html


def test_starting_a_run_when_nothing_changed_reuses_the_last_result(completed_run, analyst_client):
    response = analyst_client.post("/analytics/survival/runs/start/", follow=True)
    assert f"Nothing has changed since run {completed_run.pk}" in response.content.decode()
    assert AnalysisRun.objects.count() == 1


def test_an_analyst_can_add_a_digitised_benchmark_curve(analyst_client):
    response = analyst_client.post(
        "/analytics/survival/benchmarks/",
        {
            "code": "mirocals_km_il2ld",
            "trial": "MIROCALS",
            "label": "IL-2LD arm KM (digitised)",
            "kind": "km_points",
            "stratum": "all",
            "points": "[[0, 1], [200, 0.9], [400, 0.8], [640, 0.66]]",
            "provenance": "reconstructed",
            "source": "Lancet 2025 Figure 2A, digitised by the analyst",
        },
    )
    assert response.status_code == 302
    assert Benchmark.objects.get(code="mirocals_km_il2ld").points[-1] == [640, 0.66]


def test_run_survival_command_writes_json(completed_run, tmp_path):
    out = tmp_path / "survival.json"
    call_command("run_survival", "--output", str(out), stdout=io.StringIO())
    data = json.loads(out.read_text())
    assert data["results"]["cohort"]["n"] == 60
    assert data["provenance"]["status"] == RunStatus.SUCCEEDED
