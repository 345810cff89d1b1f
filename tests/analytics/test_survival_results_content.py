"""What the results page says, computed from a run's results: the primary estimate of the emulated
trial, its subgroups, the figures' numbers and journal-style numbers (no database needed)."""

from __future__ import annotations

import pytest

from analytics.benchmark_spec import BenchmarkSpec
from analytics.emulation_primary import primary_benchmark
from analytics.suite import SuiteParameters, run_survival_suite
from analytics.survival.figures import at_risk, result_figures
from analytics.survival.formatting import group_label, primary_summary, pvalue
from tests.analytics.synthetic import synthetic_dataset

PLACEBO_ALIVE = BenchmarkSpec(
    "alive_placebo",
    "MIROCALS placebo alive at 640 days",
    "survival_at",
    "secondary",
    "PMID 40354799",
    value=0.555,
    time_days=640,
    arm="placebo",
)
IL2_ALIVE = BenchmarkSpec(
    "alive_il2",
    "MIROCALS IL-2LD alive",
    "survival_at",
    "secondary",
    "PMID 40354799",
    value=0.627,
    time_days=640,
    arm="il2ld",
)
DIGITISED_PLACEBO = BenchmarkSpec(
    "km_placebo",
    "MIROCALS placebo arm, digitised",
    "km_points",
    "reconstructed",
    "Lancet 2025 Figure 2A",
    arm="placebo",
    points=((0.0, 1.0), (200.0, 0.85), (400.0, 0.7), (640.0, 0.56)),
)


@pytest.fixture(scope="module")
def results():
    patients, visits = synthetic_dataset(n=300, seed=5)
    params = SuiteParameters(data_cutoff="2026-06-30", imputations=2)
    return run_survival_suite(patients, visits, [IL2_ALIVE, PLACEBO_ALIVE], params).results


def test_the_primary_estimate_is_the_smr_against_the_placebo_arm_in_the_eligible_set(results):
    primary = results["emulation"]["primary_analysis"]
    row = next(
        r
        for r in results["emulation"]["benchmarks"]
        if r["benchmark"] == "alive_placebo" and r["analysis_set"] == "primary"
    )
    assert primary["benchmark"]["code"] == "alive_placebo"
    assert primary["estimate"]["smr"] == pytest.approx(row["result"]["one_sample"]["smr"], rel=1e-12)
    assert primary["estimate"]["n"] == results["emulation"]["flow"][-1]["n"]


def test_a_digitised_placebo_arm_is_preferred_to_one_proportion_alive():
    assert primary_benchmark([PLACEBO_ALIVE, DIGITISED_PLACEBO]) == DIGITISED_PLACEBO


def test_a_test_arm_is_never_the_primary_comparator():
    test_arm = BenchmarkSpec(**{**DIGITISED_PLACEBO.__dict__, "is_test": True})
    assert primary_benchmark([test_arm, PLACEBO_ALIVE]) == PLACEBO_ALIVE
    assert primary_benchmark([test_arm]) is None


def test_the_subgroups_of_one_variable_share_out_the_observed_and_expected_deaths(results):
    primary = results["emulation"]["primary_analysis"]
    sexes = [row for row in primary["subgroups"] if row["variable"] == "Sex"]
    assert [row["group"] for row in sexes] == ["Female", "Male"]
    assert sum(row["observed"] for row in sexes) == primary["estimate"]["observed"]
    assert sum(row["expected"] for row in sexes) == pytest.approx(primary["estimate"]["expected"], rel=1e-9)


def test_the_forest_plot_covers_route_pnfh_sex_onset_site_and_age_band(results):
    variables = {row["variable"] for row in results["emulation"]["primary_analysis"]["subgroups"]}
    assert variables == {"Access route", "CSF pNFH before first dose", "Sex", "Onset site", "Age at enrolment"}


def test_the_summary_states_the_estimate_with_its_ci_p_value_and_a_plain_caveat(results):
    estimate = results["emulation"]["primary_analysis"]["estimate"]
    summary = primary_summary(results)
    assert f"a standardised mortality ratio of {estimate['smr']:.2f} (95% CI" in summary["sentence"]
    assert f"{estimate['observed']} died within 640 days" in summary["sentence"]
    assert "not randomised" in summary["caveat"]
    assert "curve's shape is assumed" in summary["caveat"]


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "p < 0.001"),
        (0.0004, "p < 0.001"),
        (0.0042, "p = 0.004"),
        (0.049, "p = 0.049"),
        (0.12, "p = 0.12"),
        (0.999, "p > 0.99"),
        (None, "–"),
    ],
)
def test_p_values_are_written_as_journals_write_them(p, text):
    assert pvalue(p) == text


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("route:nhs_specials", "NHS Specials (Proleukin)"),
        ("stratum:below_750", "CSF pNFH below 750 pg/mL"),
        ("all", "All patients"),
    ],
)
def test_stored_group_keys_are_shown_as_words(key, label):
    assert group_label(key) == label


def test_numbers_at_risk_are_read_off_the_stored_timeline():
    timeline = [{"time": 10, "n_at_risk": 5}, {"time": 40, "n_at_risk": 3}, {"time": 90, "n_at_risk": 1}]
    assert [at_risk(timeline, 5, day) for day in (0, 10, 11, 40, 90, 91)] == [5, 5, 3, 3, 1, 0]


def test_the_primary_km_figure_overlays_the_labelled_benchmark_and_gives_numbers_at_risk(results):
    figure = next(f for f in result_figures(results) if f.name == "km_primary")
    headers, rows = figure.risk_table
    assert headers[0] == "Group" and headers[-1] == "640 days"
    assert rows[0][1] == str(results["emulation"]["primary_analysis"]["n"])
    assert any(curve.startswith("MIROCALS placebo arm (secondary source") for curve in figure.data["curve"])
    assert "Dashed: MIROCALS placebo arm" in figure.alt


def test_a_km_figure_marks_censored_patients_and_carries_its_alt_text_as_an_svg_title(results):
    figure = next(f for f in result_figures(results) if f.name == "km_primary")
    svg = str(figure.svg)
    assert svg.startswith('<svg class="chart" role="img" aria-labelledby="km_primary-title"')
    assert '<title id="km_primary-title">Survival from first dose' in svg
    assert figure.data["censored"].sum() > 0


def test_the_forest_plot_data_has_the_overall_row_then_one_row_per_subgroup(results):
    figure = next(f for f in result_figures(results) if f.name == "forest_subgroups")
    subgroups = results["emulation"]["primary_analysis"]["subgroups"]
    assert figure.data["variable"].iloc[0] == "All"
    assert len(figure.data) == 1 + len(subgroups)
