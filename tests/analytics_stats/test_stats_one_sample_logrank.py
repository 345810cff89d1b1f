"""One-sample log-rank test and SMR against a benchmark survival curve."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.stats import (
    BenchmarkCurve,
    BenchmarkRangeError,
    exact_poisson_ci,
    kaplan_meier,
    one_sample_logrank,
    smr_from_counts,
)

pytestmark = pytest.mark.requirement("STA-01")

# A 640-day curve shaped like a trial arm (values illustrative, not MIROCALS data).
CURVE = BenchmarkCurve(times=(100, 200, 400, 640), survival=(0.95, 0.85, 0.7, 0.55), interpolation="step")


def _cohort(**cols: list[float]) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_benchmark_curve_starts_at_one_at_time_zero():
    assert CURVE.times[0] == 0 and CURVE.survival[0] == 1.0
    assert CURVE.cumulative_hazard(0)[0] == 0.0


def test_digitised_points_are_joined_by_a_linear_cumulative_hazard_by_default():
    curve = BenchmarkCurve(times=(100, 200), survival=(0.9, 0.8))
    assert curve.interpolation == "log-linear"
    midway = (-np.log(0.9) - np.log(0.8)) / 2
    assert curve.cumulative_hazard(150)[0] == pytest.approx(midway)


def test_step_benchmark_is_right_continuous_between_points():
    lam = CURVE.cumulative_hazard([99, 100, 150, 200])
    np.testing.assert_allclose(lam, -np.log([1.0, 0.95, 0.95, 0.85]))


def test_linear_benchmark_interpolates_survival_between_points():
    curve = BenchmarkCurve((100, 200), (0.9, 0.7), interpolation="linear")
    assert curve.survival_at(150)[0] == pytest.approx(0.8)
    assert curve.survival_at(50)[0] == pytest.approx(0.95)


def test_log_linear_benchmark_has_constant_hazard_within_intervals():
    rate = 0.002
    curve = BenchmarkCurve((300, 600), tuple(np.exp(-rate * np.array([300, 600]))), interpolation="log-linear")
    np.testing.assert_allclose(curve.cumulative_hazard([10, 250, 450]), rate * np.array([10, 250, 450]))


@pytest.mark.parametrize(
    ("times", "surv", "message"),
    [
        ((100, 50), (0.9, 0.8), "increasing"),
        ((100, 200), (0.8, 0.9), "non-increasing"),
        ((100, 200), (0.8, 0.0), "infinite hazard"),
        ((100,), (0.8, 0.7), "equal"),
    ],
)
def test_benchmark_curve_rejects_impossible_curves(times, surv, message):
    with pytest.raises(ValueError, match=message):
        BenchmarkCurve(times, surv)


def test_benchmark_curve_rejects_unknown_provenance():
    with pytest.raises(ValueError, match="provenance"):
        BenchmarkCurve((100,), (0.9,), provenance="rumour")


def test_one_sample_logrank_expected_is_sum_of_cumulative_hazard_over_follow_up():
    df = _cohort(exit=[150, 400, 640], event=[1, 0, 1])
    res = one_sample_logrank(df, "exit", "event", None, CURVE)
    expected = -np.log(0.95) - np.log(0.7) - np.log(0.55)
    assert res.expected == pytest.approx(expected)
    assert res.observed == res.events == 2
    assert res.smr == pytest.approx(2 / expected)


def test_one_sample_logrank_counts_expected_deaths_only_after_entry():
    # Entering at 250 skips the benchmark's drops at 100 and 200.
    from_start = one_sample_logrank(_cohort(entry=[0], exit=[450], event=[0]), "exit", "event", "entry", CURVE)
    late = one_sample_logrank(_cohort(entry=[250], exit=[450], event=[0]), "exit", "event", "entry", CURVE)
    assert from_start.expected == pytest.approx(-np.log(0.7))
    assert late.expected == pytest.approx(np.log(0.85) - np.log(0.7))


def test_one_sample_logrank_refuses_a_cohort_with_no_expected_deaths():
    # Follow-up 250-300 falls between two steps of the benchmark: E = 0.
    with pytest.raises(ValueError, match="expected number of events is 0"):
        one_sample_logrank(_cohort(entry=[250], exit=[300], event=[1]), "exit", "event", "entry", CURVE)


def test_one_sample_logrank_expected_for_delayed_entry_is_hazard_difference():
    res = one_sample_logrank(_cohort(entry=[150], exit=[450], event=[1]), "exit", "event", "entry", CURVE)
    assert res.expected == pytest.approx(np.log(0.95) - np.log(0.7))


def test_one_sample_logrank_z_chi2_and_p_follow_the_normal_approximation():
    df = _cohort(exit=[640] * 20, event=[1] * 12 + [0] * 8)
    res = one_sample_logrank(df, "exit", "event", None, CURVE)
    e = 20 * -np.log(0.55)
    assert res.z == pytest.approx((12 - e) / math.sqrt(e))
    assert res.chi2 == pytest.approx(res.z**2)
    assert res.p == pytest.approx(math.erfc(abs(res.z) / math.sqrt(2)))


def test_one_sample_logrank_refuses_follow_up_beyond_the_benchmark_by_default():
    with pytest.raises(BenchmarkRangeError, match="horizon 640"):
        one_sample_logrank(_cohort(exit=[700], event=[1]), "exit", "event", None, CURVE)


def test_censor_extrapolation_truncates_follow_up_and_events_at_the_horizon():
    curve = BenchmarkCurve(CURVE.times[1:], CURVE.survival[1:], interpolation="step", extrapolation="censor")
    df = _cohort(entry=[0, 0, 700], exit=[700, 500, 800], event=[1, 1, 1])
    res = one_sample_logrank(df, "exit", "event", "entry", curve)
    assert res.observed == 1  # the death at 700 is after the horizon
    assert res.n == 2 and res.n_excluded == 1  # entered after the horizon
    assert res.expected == pytest.approx(-np.log(0.55) - np.log(0.7))
    assert res.follow_up_total == pytest.approx(640 + 500)


def test_last_hazard_extrapolation_carries_the_final_interval_hazard_forward():
    curve = BenchmarkCurve(CURVE.times[1:], CURVE.survival[1:], extrapolation="last_hazard")
    h = (np.log(0.7) - np.log(0.55)) / 240
    assert curve.last_hazard == pytest.approx(h)
    assert curve.cumulative_hazard(740)[0] == pytest.approx(-np.log(0.55) + 100 * h)


def test_smr_ci_and_exact_p_match_r_poisson_test(r_result):
    for case in r_result("smr"):
        res = smr_from_counts(int(case["observed"]), case["expected"], n=100, reference="x")
        assert res.smr == pytest.approx(case["smr"], rel=1e-9)
        assert res.smr_ci_lower == pytest.approx(case["lower"], rel=1e-9, abs=1e-12)
        assert res.smr_ci_upper == pytest.approx(case["upper"], rel=1e-9)
        assert res.p_exact == pytest.approx(case["p"], rel=1e-9)


def test_exact_poisson_ci_for_zero_events_has_zero_lower_bound():
    lo, hi = exact_poisson_ci(0)
    assert lo == 0.0
    assert hi == pytest.approx(3.688879, rel=1e-6)  # the "rule of 3.7"


def test_one_sample_logrank_attaches_benchmark_provenance_caveat():
    curve = BenchmarkCurve((640,), (0.6,), provenance="secondary", label="MIROCALS placebo")
    df = _cohort(entry=[10] * 25, exit=[640] * 25, event=[1] * 10 + [0] * 15)
    res = one_sample_logrank(df, "exit", "event", "entry", curve)
    codes = {c.code for c in res.caveats}
    assert {"benchmark_secondary", "left_truncation", "real_world_non_randomised"} <= codes
    assert "small_sample" not in codes
    assert res.reference == "MIROCALS placebo"


def test_small_cohorts_are_flagged_as_small_samples():
    res = one_sample_logrank(_cohort(exit=[640] * 5, event=[1, 0, 0, 0, 0]), "exit", "event", None, CURVE)
    assert "small_sample" in {c.code for c in res.caveats}


def test_benchmark_from_km_reproduces_the_km_curve(lung):
    km = kaplan_meier(lung, "time", "event")
    curve = BenchmarkCurve.from_km(km, extrapolation="censor", provenance="reconstructed")
    grid = [0, 100, 310, 500, 800]
    np.testing.assert_allclose(curve.survival_at(grid), [a.survival for a in km.survival_at(grid)])


def test_cohort_behaving_like_the_benchmark_has_smr_near_one():
    rng = np.random.default_rng(1)
    rate = 1 / 800
    t = rng.exponential(1 / rate, size=4000)
    df = pd.DataFrame({"exit": np.minimum(t, 640), "event": (t <= 640).astype(int)})
    grid = np.arange(20, 641, 20)
    curve = BenchmarkCurve(tuple(grid), tuple(np.exp(-rate * grid)), interpolation="log-linear")
    res = one_sample_logrank(df, "exit", "event", None, curve)
    assert res.smr_ci_lower < 1 < res.smr_ci_upper


def test_smr_to_dict_is_json_serialisable():
    out = one_sample_logrank(_cohort(exit=[150, 640], event=[1, 0]), "exit", "event", None, CURVE).to_dict()
    json.dumps(out, allow_nan=False)
    assert {"n", "events", "smr", "smr_ci_lower", "smr_ci_upper", "expected", "p"} <= out.keys()


follow_up = st.lists(st.tuples(st.floats(0, 300), st.floats(1, 340), st.booleans()), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(follow_up, st.sampled_from(["step", "linear", "log-linear"]))
def test_expected_deaths_are_non_negative_and_grow_with_follow_up(rows, interpolation):
    curve = BenchmarkCurve(CURVE.times, CURVE.survival, interpolation=interpolation)
    entry = np.array([r[0] for r in rows])
    exit_ = entry + np.array([r[1] for r in rows])
    lam = curve.cumulative_hazard
    e_short = lam(exit_) - lam(entry)
    e_long = lam(np.minimum(exit_ + 10, 640)) - lam(entry)
    assert np.all(e_short >= -1e-12)
    assert np.all(e_long >= e_short - 1e-12)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 200), st.floats(0.1, 200))
def test_smr_confidence_interval_contains_the_smr(observed, expected):
    res = smr_from_counts(observed, expected, n=50, reference="x")
    assert res.smr_ci_lower <= res.smr <= res.smr_ci_upper
    assert 0 <= res.p_exact <= 1
