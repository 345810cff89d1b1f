"""Analysis runs: reproducible, reused when nothing changed, one at a time, never half-written."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics import suite
from analytics.survival import services
from analytics.survival.models import AnalysisRun, Benchmark, RunStatus
from registry import services as registry_services
from registry.models import Patient, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort():
    seed_cohort(patients=80, seed=11, as_of=timezone.localdate())


@pytest.fixture
def analyst():
    return UserFactory(username="dev", role=Role.ANALYST)


def request_and_run(user, capture):
    with capture(execute=True):
        run = services.survival_run_request(user=user)
    run.refresh_from_db()
    return run


def test_a_run_stores_results_figures_snapshot_and_versions(cohort, analyst, django_capture_on_commit_callbacks):
    run = request_and_run(analyst, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.SUCCEEDED
    assert run.results["cohort"]["n"] == 80
    assert run.results["km"]["overall"]["os"]["n"] == 80
    assert set(run.figures) == {"km_primary", "forest_subgroups", "km_by_route", "km_by_pnfh_stratum"}
    assert run.snapshot["registry.Patient"][0] == 80
    assert "lifelines" in run.library_versions
    assert ["mirocals_hr_low_pnfh", 2] in run.benchmarks_used
    assert (run.progress_done, run.progress_total) == (10, 10)


def test_the_same_data_and_parameters_reuse_the_stored_result(cohort, analyst, django_capture_on_commit_callbacks):
    first = request_and_run(analyst, django_capture_on_commit_callbacks)
    second = request_and_run(analyst, django_capture_on_commit_callbacks)
    assert second.pk == first.pk
    assert AnalysisRun.objects.count() == 1


def test_the_command_with_recompute_computes_afresh_instead_of_reusing(cohort, tmp_path):
    call_command("run_survival", "--output", str(tmp_path / "first.json"))
    call_command("run_survival", "--output", str(tmp_path / "second.json"), "--recompute")
    runs = AnalysisRun.objects.order_by("pk")
    assert [run.status for run in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert runs[0].fingerprint == runs[1].fingerprint
    assert json.loads((tmp_path / "second.json").read_text())["provenance"]["run"] == runs[1].pk


def test_a_change_to_the_data_gives_a_new_run(cohort, analyst, django_capture_on_commit_callbacks):
    first = request_and_run(analyst, django_capture_on_commit_callbacks)
    patient = Patient.objects.order_by("pk").first()
    registry_services.record_update(
        patient, actor=None, reason="typo", expected_version=None, sex="female" if patient.sex == "male" else "male"
    )
    second = request_and_run(analyst, django_capture_on_commit_callbacks)
    assert second.pk != first.pk
    assert second.snapshot_hash != first.snapshot_hash


def test_only_one_run_of_an_analysis_is_active_at_a_time(cohort, analyst):
    active = AnalysisRun.objects.create(
        analysis=services.ANALYSIS, status=RunStatus.RUNNING, heartbeat_at=timezone.now()
    )
    assert services.survival_run_request(user=analyst).pk == active.pk
    with pytest.raises(ValidationError):
        AnalysisRun(analysis=services.ANALYSIS, status=RunStatus.QUEUED).validate_constraints()


def test_a_failing_run_is_marked_failed_with_no_partial_results(
    cohort, analyst, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ArithmeticError("matrix is singular")

    monkeypatch.setattr(suite, "run_survival_suite", broken)  # the run imports it when it starts
    run = request_and_run(analyst, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FAILED
    assert "matrix is singular" in run.error
    assert run.results is None
    assert run.figures is None


def test_a_run_abandoned_by_a_dead_worker_is_requeued_and_completed(cohort, django_capture_on_commit_callbacks):
    run = AnalysisRun.objects.create(
        analysis=services.ANALYSIS,
        status=RunStatus.RUNNING,
        attempts=1,
        parameters={"times": [365, 640], "alpha": 0.05, "min_group_size": 10},
        heartbeat_at=timezone.now() - dt.timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.survival_runs_recover_stale() == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)


def test_a_queued_run_whose_message_was_lost_is_sent_again_and_completed(cohort, django_capture_on_commit_callbacks):
    run = AnalysisRun.objects.create(
        analysis=services.ANALYSIS, parameters={"times": [365, 640], "alpha": 0.05, "min_group_size": 10}
    )
    AnalysisRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.survival_runs_recover_stale() == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 1)


def test_a_run_queued_moments_ago_is_left_in_the_queue(cohort):
    AnalysisRun.objects.create(analysis=services.ANALYSIS)
    assert services.survival_runs_recover_stale() == []


def test_a_run_sent_again_is_not_resent_until_it_has_waited_again(cohort, django_capture_on_commit_callbacks):
    run = AnalysisRun.objects.create(analysis=services.ANALYSIS)
    AnalysisRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=False):
        assert services.survival_runs_recover_stale() == [run.pk]
    assert services.survival_runs_recover_stale() == []


def test_a_run_abandoned_three_times_is_marked_failed(cohort):
    run = AnalysisRun.objects.create(
        analysis=services.ANALYSIS,
        status=RunStatus.RUNNING,
        attempts=3,
        heartbeat_at=timezone.now() - dt.timedelta(hours=1),
    )
    services.survival_runs_recover_stale()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Gave up after 3 attempts" in run.error


def test_a_run_held_by_a_live_worker_is_not_taken_over(cohort):
    run = AnalysisRun.objects.create(
        analysis=services.ANALYSIS, status=RunStatus.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    with pytest.raises(services.RunBusy):
        services.survival_run_execute(run.pk)


def test_clinicians_cannot_start_analyses():
    with pytest.raises(PermissionDenied):
        services.survival_run_request(user=UserFactory(role=Role.CLINICIAN))


def test_revising_a_benchmark_adds_a_version_and_keeps_the_old_one(analyst):
    revised = services.benchmark_revise(
        user=analyst,
        code="mirocals_hr_low_pnfh",
        label="MIROCALS HR, low pNFH (from the full paper)",
        kind="hazard_ratio",
        stratum="low",
        comparison="unadjusted",
        value=0.52,
        ci_lower=0.30,
        ci_upper=0.89,
        provenance="confirmed",
        source="Lancet 2025, Figure 3",
    )
    versions = Benchmark.objects.filter(code="mirocals_hr_low_pnfh").order_by("version")
    assert [(b.version, b.is_current) for b in versions] == [(1, False), (2, False), (3, True)]
    assert revised.created_by == analyst


def test_a_benchmark_whose_interval_excludes_its_estimate_is_refused(analyst):
    with pytest.raises(ValidationError) as error:
        services.benchmark_revise(
            user=analyst,
            code="x_hr",
            label="x",
            kind="hazard_ratio",
            value=0.5,
            ci_lower=0.6,
            ci_upper=0.9,
            provenance="secondary",
            source="somewhere",
        )
    assert "ci_lower" in error.value.message_dict


def test_digitised_points_must_not_increase(analyst):
    with pytest.raises(ValidationError) as error:
        services.benchmark_revise(
            user=analyst,
            code="x_km",
            label="x",
            kind="km_points",
            points=[[0, 1], [100, 0.8], [200, 0.9]],
            provenance="reconstructed",
            source="Figure 2A digitised with WebPlotDigitizer by DM",
        )
    assert "points" in error.value.message_dict


def test_shipped_mirocals_benchmarks_mark_confirmed_and_secondary_figures():
    current = {b.code: b.provenance for b in Benchmark.objects.filter(is_current=True)}
    assert current["mirocals_deaths_total"] == "confirmed"
    assert current["mirocals_hr_low_pnfh"] == "secondary"
    assert Benchmark.objects.get(code="mirocals_hr_adjusted", is_current=True).value == 0.32
