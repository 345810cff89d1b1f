"""The survival suite over an analysis-ready dataset: every estimate with n, events, CI and caveats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.stats import kaplan_meier
from analytics.suite import BenchmarkSpec, SuiteParameters, benchmark_curve, run_survival_suite
from tests.analytics.synthetic import synthetic_dataset

pytestmark = pytest.mark.requirement("STA-02")

MIROCALS = [
    BenchmarkSpec(
        "hr_overall",
        "MIROCALS unadjusted HR",
        "hazard_ratio",
        "confirmed",
        "PMID 40354799",
        value=0.81,
        ci_lower=0.54,
        ci_upper=1.22,
        comparison="unadjusted",
    ),
    BenchmarkSpec(
        "hr_low",
        "MIROCALS HR, low pNFH",
        "hazard_ratio",
        "secondary",
        "medwireNews 2025",
        value=0.52,
        ci_lower=0.30,
        ci_upper=0.89,
        stratum="low",
        comparison="unadjusted",
    ),
    BenchmarkSpec(
        "alive_il2",
        "MIROCALS IL-2LD alive at end of follow-up",
        "survival_at",
        "secondary",
        "MND Association",
        value=0.627,
        time_days=640,
        arm="il2ld",
    ),
]


@pytest.fixture(scope="module")
def output():
    patients, visits = synthetic_dataset()
    return run_survival_suite(patients, visits, MIROCALS, SuiteParameters())


def test_overall_km_carries_n_events_ci_and_the_real_world_caveat(output):
    km = output.results["km"]["overall"]["os"]
    assert km["n"] == 400
    assert km["events"] == output.results["cohort"]["os_events"]
    at_640 = next(row for row in km["at_times"] if row["time"] == 640)
    assert at_640["ci_lower"] < at_640["survival"] < at_640["ci_upper"]
    assert "real_world_non_randomised" in [c["code"] for c in km["caveats"]]


def test_suite_km_agrees_with_the_reference_implementation_on_the_same_frame(output):
    patients, _ = synthetic_dataset()
    direct = kaplan_meier(patients.assign(os_event=patients["os_event"].astype(int)), "os_time_days", "os_event")
    assert output.results["km"]["overall"]["os"]["median"] == pytest.approx(direct.median)


def test_every_trial_hazard_ratio_is_shown_beside_a_registry_estimate_with_caveats(output):
    rows = output.results["cox"]["trial_comparison"]
    assert [r["benchmark"]["code"] for r in rows] == ["hr_overall", "hr_low"]
    for row in rows:
        assert row["registry"]["ci_lower"] < row["registry"]["hr"] < row["registry"]["ci_upper"]
        assert row["registry"]["n"] > 0
        codes = [c["code"] for c in row["caveats"]]
        assert "real_world_non_randomised" in codes
        assert "confounding" in codes


def test_secondary_benchmarks_are_flagged_as_such(output):
    low = output.results["cox"]["trial_comparison"][1]
    assert "benchmark_secondary" in [c["code"] for c in low["caveats"]]


def test_adjusted_cox_reports_the_proportional_hazards_check(output):
    ph_test = output.results["cox"]["adjusted"]["ph_test"]
    assert 0 <= ph_test["global_p"] <= 1
    assert [row["variable"] for row in ph_test["rows"]] == [
        "treated",
        "age_at_enrolment",
        "male",
        "bulbar",
        "dfs_baseline",
        "svc_baseline",
        "log_pnfh",
    ]


def test_one_sample_logrank_against_a_single_survival_point_uses_a_constant_hazard(output):
    row = output.results["one_sample"][0]
    assert row["benchmark"]["code"] == "alive_il2"
    assert row["result"]["observed"] == row["result"]["events"]
    assert row["result"]["smr_ci_lower"] < row["result"]["smr"] < row["result"]["smr_ci_upper"]


def test_constant_hazard_benchmark_passes_through_its_point():
    curve = benchmark_curve(MIROCALS[2])
    assert curve.survival_at([640])[0] == pytest.approx(0.627)
    assert curve.survival_at([320])[0] == pytest.approx(0.627**0.5)


def test_encals_observed_vs_expected_is_reported_overall_and_per_stratum(output):
    groups = output.results["encals"]["groups"]
    assert {"all", "stratum:low", "route:none"} <= set(groups)
    assert groups["all"]["expected"] > 0


def test_alsfrs_slope_is_recovered_from_visits(output):
    assert output.results["slopes"]["groups"]["all"]["mean_slope"] == pytest.approx(-1 / 30 * 30.4375, rel=1e-6)


def test_results_are_json_serialisable(output):
    import json

    json.dumps(output.results, allow_nan=False)


def test_patients_without_follow_up_are_counted_not_used_for_expected_events():
    patients, visits = synthetic_dataset(n=120, seed=3)
    patients.loc[:4, ["os_time_days", "composite_time_days"]] = 0
    output = run_survival_suite(patients, visits, MIROCALS)
    assert output.results["encals"]["n_excluded_no_follow_up"] == 5
    assert output.results["encals"]["groups"]["all"]["n"] == 115


def test_stored_results_hold_summaries_not_patient_level_arrays(output):
    import json

    km = output.results["km"]["overall"]["os"]
    assert "_exit" not in km
    assert "_entry" not in km
    assert len(json.dumps(output.results)) < 2_000_000


TEST_ARM = BenchmarkSpec(
    "test_arm",
    "TEST (synthetic arm, not a trial result): placebo-like",
    "km_points",
    "unconfirmed",
    "synthetic",
    arm="placebo",
    points=tuple((float(t), float(np.exp(np.log(0.55) * (t / 640) ** 1.5))) for t in range(20, 641, 20)),
    risk_table=((0.0, 110), (160.0, 98), (320.0, 84), (480.0, 72), (640.0, 60)),
    total_events=45,
    is_test=True,
)


@pytest.fixture(scope="module")
def emulated():
    patients, visits = synthetic_dataset(n=500, seed=2)
    params = SuiteParameters(data_cutoff="2026-06-30", imputations=3)
    return run_survival_suite(patients, visits, [*MIROCALS, TEST_ARM], params).results


def test_emulation_gives_the_flow_and_table_one_and_records_the_sap_version(emulated):
    emulation = emulated["emulation"]
    assert emulation["sap_version"] == "1.1" and emulation["data_cutoff"] == "2026-06-30"
    assert emulation["time_zero"] == "first dose"
    assert emulation["flow"][-1]["step"].endswith("(primary set)")
    assert set(emulation["table_one"]) == {"primary", "all_treated"}


def test_the_digitised_arm_gives_smr_hr_and_rmst_difference_with_e_values(emulated):
    row = next(
        r
        for r in emulated["emulation"]["benchmarks"]
        if r["benchmark"] == "test_arm" and r["analysis_set"] == "primary"
    )
    result = row["result"]
    assert row["kind"] == "curve" and result["test_only"]
    hr = result["hazard_ratio"]
    assert hr["ci_lower"] < hr["hr"] < hr["ci_upper"] and hr["e_value"]["e_value"] >= 1
    assert (
        result["rmst_difference"]["ci_lower"]
        < result["rmst_difference"]["difference"]
        < result["rmst_difference"]["ci_upper"]
    )
    assert "benchmark_test_only" in [c["code"] for c in result["caveats"]]


def test_a_single_proportion_benchmark_is_labelled_approximate_with_its_shape_band(emulated):
    row = next(
        r
        for r in emulated["emulation"]["benchmarks"]
        if r["benchmark"] == "alive_il2" and r["analysis_set"] == "primary"
    )
    result = row["result"]
    assert row["kind"] == "approximate" and result["label"] == "approximate: curve shape assumed"
    assert result["smr_band"][0] <= result["one_sample"]["smr"] <= result["smr_band"][1]


def test_routes_are_compared_with_balance_weighted_cox_and_an_imputed_adjusted_model(emulated):
    routes = emulated["emulation"]["routes"]
    assert routes["iptw"]["max_abs_smd_after"] < routes["iptw"]["max_abs_smd_before"]
    for name in ("to_640_days", "all_follow_up"):
        cox_row = routes["weighted"]["cox"][name]
        assert cox_row["hr_ci_lower"] < cox_row["hr"] < cox_row["hr_ci_upper"] and cox_row["e_value"]
    assert routes["adjusted_imputed"]["m"] == 3
    assert routes["adjusted_complete_case"]["n"] > 0
    assert routes["events_per_variable"]["kept"][0] == "index_route"


def test_ventilation_incidence_treats_death_as_competing(emulated):
    curves = emulated["emulation"]["competing_risks"]["all"]["curves"]
    assert [c["cause"] for c in curves] == ["ventilation", "death"]


def test_encals_observed_vs_expected_reports_missing_predictors(emulated):
    encals = emulated["emulation"]["encals"]["primary"]
    assert encals["complete_case"]["expected"] > 0
    assert {row["predictor"] for row in encals["predictors"]["missingness"]} >= {"ftd", "c9orf72"}


def test_a_run_without_a_data_cut_off_says_why_there_is_no_emulation(output):
    assert output.results["emulation"] == {"error": "no data cut-off date was given for the run"}


def test_a_stratum_benchmark_never_borrows_the_all_patients_estimate():
    patients, visits = synthetic_dataset(n=200, seed=4)
    below = BenchmarkSpec("hr_below", "HR below 750", "hazard_ratio", "secondary", "x", value=0.9, stratum="below_750")
    results = run_survival_suite(patients, visits, [below]).results
    registry = results["cox"]["trial_comparison"][0]["registry"]
    assert "hr" not in registry and "below_750" in registry["error"]


def test_unknown_c9orf72_is_left_out_of_the_encals_expectation_not_counted_negative():
    patients, visits = synthetic_dataset(n=200, seed=4)
    patients.loc[:49, "c9orf72"] = "unknown"
    followed = int((patients.loc[:49, "composite_time_days"] > 0).sum())
    results = run_survival_suite(patients, visits, MIROCALS).results
    assert results["encals"]["n_excluded_missing_predictors"] == followed


def test_the_cohort_slope_uses_the_dataset_definition_with_visits_from_90_days_before_time_zero():
    patients, _ = synthetic_dataset(n=40, seed=6)
    origin = pd.to_datetime(patients["time_origin_date"])
    rows = []
    for pid, start in zip(patients["patient_id"], origin, strict=True):
        for days, total in ((-60, 44), (0, 40), (90, 38)):  # the pre-dose visit steepens the slope
            rows.append({"patient_id": pid, "assessment_date": start + pd.Timedelta(days=days), "total": total})
    visits = pd.DataFrame(rows)
    results = run_survival_suite(patients, visits, MIROCALS).results
    months = np.array([-60, 0, 90]) / 30.4375
    expected = np.polyfit(months, [44, 40, 38], 1)[0]
    assert results["slopes"]["groups"]["all"]["mean_slope"] == pytest.approx(expected)
