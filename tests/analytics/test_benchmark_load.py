"""Benchmarks from documented files, their provenance, and what a run records about its protocol."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics.benchmark_spec import forum_or_aggregator
from analytics.survival import services
from analytics.survival.models import Benchmark
from registry.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEST_ARM = Path(__file__).resolve().parents[2] / "analytics" / "survival" / "benchmark_data" / "test_synthetic_arm"


@pytest.fixture
def arm_dir(tmp_path: Path) -> Path:
    target = tmp_path / "arm"
    shutil.copytree(TEST_ARM, target)
    return target


def _edit_metadata(directory: Path, **changes: object) -> None:
    path = directory / "metadata.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


def test_the_shipped_test_arm_loads_as_a_labelled_test_benchmark_with_its_risk_table():
    UserFactory(username="ana", role=Role.ANALYST)
    call_command("benchmark_load", str(TEST_ARM), "--user", "ana")
    arm = Benchmark.objects.get(code="test_synthetic_arm", is_current=True)
    assert arm.is_test and arm.label.startswith("TEST (synthetic arm, not a trial result)")
    assert arm.risk_table[0] == [0.0, 110] and arm.n == 110
    assert arm.total_events == 38 and arm.created_by.username == "ana"
    spec = services.benchmark_spec(arm)
    assert spec.risk_table[0] == (0.0, 110) and spec.is_test


def test_loading_again_adds_a_version(arm_dir):
    call_command("benchmark_load", str(arm_dir))
    call_command("benchmark_load", str(arm_dir))
    assert list(Benchmark.objects.filter(code="test_synthetic_arm").values_list("version", flat=True)) == [2, 1]


def test_a_forum_is_refused_as_a_source_and_nothing_is_stored(arm_dir):
    _edit_metadata(arm_dir, secondary_sources=["reddit r/ALS thread"])
    with pytest.raises(CommandError, match="never a source"):
        call_command("benchmark_load", str(arm_dir))
    assert not Benchmark.objects.filter(code="test_synthetic_arm").exists()


def test_a_trial_benchmark_needs_the_primary_publication_doi(arm_dir):
    _edit_metadata(arm_dir, test_only=False, doi="")
    with pytest.raises(CommandError, match="primary publication's DOI"):
        call_command("benchmark_load", str(arm_dir))


def test_a_digitised_point_that_rises_is_reported_with_its_row(arm_dir):
    path = arm_dir / "survival.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].split(",")[0] + ",0.9999"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match=r"survival\.csv row 4"):
        call_command("benchmark_load", str(arm_dir))


def test_a_benchmark_citing_an_aggregator_fails_validation():
    benchmark = Benchmark(
        code="x",
        label="x",
        kind="survival_at",
        value=0.5,
        time_days=640,
        provenance="secondary",
        source="trial.medpath.com",
    )
    with pytest.raises(ValidationError, match="never a source"):
        benchmark.full_clean(exclude=["is_current"])


def test_no_current_benchmark_cites_a_forum_or_an_aggregator():
    for benchmark in Benchmark.objects.filter(is_current=True):
        texts = [benchmark.source, *map(str, benchmark.secondary_sources)]
        assert not any(forum_or_aggregator(t) for t in texts), benchmark.code


def test_survival_figures_known_only_from_a_forum_are_withdrawn_with_their_history():
    for code in ("mirocals_alive_il2ld_low_pnfh", "mirocals_alive_placebo_low_pnfh"):
        assert not Benchmark.objects.filter(code=code, is_current=True).exists()
        assert Benchmark.objects.filter(code=code).exists()


def test_the_mirocals_arm_proportions_are_labelled_approximate_and_cite_the_paper():
    for code in ("mirocals_alive_il2ld", "mirocals_alive_placebo"):
        current = Benchmark.objects.get(code=code, is_current=True)
        assert "approximate" in current.label and current.doi == "10.1016/S0140-6736(25)00262-4"
        assert all(s.startswith("secondary:") for s in current.secondary_sources)


def test_a_run_records_its_sap_version_and_data_cut_off():
    run = services.survival_run_request(user=None, enqueue=False)
    assert run.parameters["sap_version"] == "1.1"
    assert run.parameters["data_cutoff"] == timezone.localdate().isoformat()
