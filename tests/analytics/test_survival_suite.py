"""The survival suite over an analysis-ready dataset: every estimate with n, events, CI and caveats."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.stats import kaplan_meier
from analytics.suite import BenchmarkSpec, SuiteParameters, benchmark_curve, run_survival_suite

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


def synthetic_dataset(n: int = 400, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    route = rng.choice(["managed_access", "nhs_specials", "none"], size=n, p=[0.35, 0.45, 0.2])
    pnfh = rng.lognormal(np.log(2000), 0.6, size=n)
    hazard = 1 / 900 * np.where(route == "none", 1.0, 0.7) * (pnfh / 2000) ** 0.5
    death = rng.exponential(1 / hazard)
    censor = rng.uniform(100, 800, size=n)
    os_time = np.minimum(death, censor).round()
    patients = pd.DataFrame(
        {
            "patient_id": [f"GB-TST-{i:04d}" for i in range(n)],
            "route": route,
            "sex": rng.choice(["male", "female"], size=n),
            "bulbar_onset": rng.random(n) < 0.3,
            "age_at_enrolment": rng.normal(60, 9, n).round(),
            "age_at_onset": rng.normal(59, 9, n).round(),
            "dfs_baseline": rng.lognormal(np.log(0.6), 0.4, n),
            "svc_baseline": rng.normal(88, 12, n),
            "fvc_baseline": rng.normal(90, 12, n),
            "csf_pnfh_baseline": pnfh,
            "pnfh_stratum": pd.cut(pnfh, [0, 750, 3700, np.inf], labels=["below_750", "low", "high"]).astype(str),
            "diagnostic_delay_months": rng.uniform(3, 15, n),
            "symptom_duration_months": rng.uniform(8, 24, n),
            "el_escorial": rng.choice(["possible", "probable", "definite"], size=n),
            "ftd": "no",
            "c9orf72": "negative",
            "time_origin_date": dt.date(2025, 7, 1),
            "os_time_days": os_time,
            "os_event": death <= censor,
            "composite_time_days": os_time,
            "composite_event": death <= censor,
        }
    )
    visits = pd.DataFrame(
        [
            {
                "patient_id": pid,
                "assessment_date": dt.date(2025, 7, 1) + dt.timedelta(days=int(d)),
                "total": 40 - d / 30,
            }
            for pid in patients["patient_id"]
            for d in (0, 90, 180)
        ]
    )
    return patients, visits


@pytest.fixture(scope="module")
def output():
    patients, visits = synthetic_dataset()
    return run_survival_suite(patients, visits, MIROCALS, SuiteParameters(), render_figures=True)


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


def test_figures_are_svg_with_the_benchmark_overlaid(output):
    svg = output.figures["km_treated_vs_benchmark"]
    assert svg.lstrip().startswith("<?xml")
    assert "Benchmark: MIROCALS IL-2LD alive" in svg


def test_results_are_json_serialisable(output):
    import json

    json.dumps(output.results, allow_nan=False)


def test_patients_without_follow_up_are_counted_not_used_for_expected_events():
    patients, visits = synthetic_dataset(n=120, seed=3)
    patients.loc[:4, ["os_time_days", "composite_time_days"]] = 0
    output = run_survival_suite(patients, visits, MIROCALS, render_figures=False)
    assert output.results["encals"]["n_excluded_no_follow_up"] == 5
    assert output.results["encals"]["groups"]["all"]["n"] == 115


def test_stored_results_hold_summaries_not_patient_level_arrays(output):
    import json

    km = output.results["km"]["overall"]["os"]
    assert "_exit" not in km
    assert "_entry" not in km
    assert len(json.dumps(output.results)) < 2_000_000
