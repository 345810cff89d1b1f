"""Benchmarks as curves: Guyot round trip, SMR, HR and RMST against a digitised arm, and the
approximate comparison against a single proportion."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from analytics.stats import (
    BenchmarkCurve,
    DigitisedArm,
    WeibullCurve,
    compare_with_arm,
    compare_with_proportion,
    cox,
    kaplan_meier,
    reconstruct_ipd,
)

SHAPE, S640 = 1.6, 0.55  # rising hazard, as in ALS (issue 13's example)


def _weibull_cohort(rng: np.random.Generator, n: int, hr: float = 1.0) -> pd.DataFrame:
    c = -np.log(S640) * hr
    t = 640 * (-np.log(rng.random(n)) / c) ** (1 / SHAPE)
    censor = rng.uniform(300, 900, n)
    return pd.DataFrame({"time": np.ceil(np.minimum(t, censor)), "event": (t <= censor).astype(int)})


def _digitise(df: pd.DataFrame, label: str, step: float = 80.0, **kwargs) -> DigitisedArm:
    """What a reader of the paper gets: the KM drawn at its event times, a risk table, total events."""
    km = kaplan_meier(df, "time", "event")
    ev = km.timeline[(km.timeline["events"] > 0) & (km.timeline["survival"] > 0)]
    risk_times = np.arange(0, km.timeline["time"].max(), step)
    return DigitisedArm(
        label=label,
        times=tuple(ev["time"]),
        survival=tuple(ev["survival"]),
        risk_times=tuple(risk_times),
        n_at_risk=tuple(n for _, n in km.n_at_risk_at(risk_times.tolist())),
        total_events=km.events,
        **kwargs,
    )


@pytest.fixture(scope="module")
def trial() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(640)
    return {"placebo": _weibull_cohort(rng, 110), "il2": _weibull_cohort(rng, 110, hr=0.6)}


@pytest.mark.parametrize("arm", ["placebo", "il2"])
def test_guyot_round_trip_reproduces_the_km_within_two_points_everywhere(trial, arm):
    original = kaplan_meier(trial[arm], "time", "event")
    rebuilt = kaplan_meier(_digitise(trial[arm], arm).reconstruct().ipd, "time", "event")
    grid = np.arange(0, trial[arm]["time"].max() + 1)
    a = np.array([s.survival for s in original.survival_at(grid)])
    b = np.array([s.survival for s in rebuilt.survival_at(grid)])
    shown = ~np.isnan(a) & ~np.isnan(b)
    assert np.max(np.abs(a[shown] - b[shown])) <= 0.02


def test_guyot_round_trip_hazard_ratio_lies_inside_the_original_ci(trial):
    def both(placebo: pd.DataFrame, il2: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([placebo.assign(il2=0), il2.assign(il2=1)], ignore_index=True)

    original = cox(both(trial["placebo"], trial["il2"]), "time", "event", ["il2"]).term("il2")
    rebuilt_arms = [_digitise(trial[a], a).reconstruct().ipd for a in ("placebo", "il2")]
    rebuilt = cox(both(*rebuilt_arms), "time", "event", ["il2"]).term("il2")
    assert original.hr_ci_lower < rebuilt.hr < original.hr_ci_upper


def test_a_cohort_compared_with_its_own_digitised_curve_shows_no_difference(trial):
    res = compare_with_arm(trial["placebo"], "time", "event", _digitise(trial["placebo"], "placebo"))
    assert res.one_sample.smr_ci_lower < 1 < res.one_sample.smr_ci_upper
    assert res.hazard_ratio.ci_lower < 1 < res.hazard_ratio.ci_upper
    assert res.rmst_difference.ci_lower < 0 < res.rmst_difference.ci_upper
    assert res.reconstructed_n == 110


def test_comparison_is_restricted_to_640_days(trial):
    res = compare_with_arm(trial["il2"], "time", "event", _digitise(trial["placebo"], "placebo"))
    late = trial["il2"].query("time > 640 and event == 1")
    assert res.events == int(trial["il2"]["event"].sum()) - len(late)
    assert res.rmst_registry.tau == 640


def test_every_comparison_carries_n_events_ci_e_value_and_caveats(trial):
    res = compare_with_arm(
        trial["il2"], "time", "event", _digitise(trial["placebo"], "placebo", provenance="secondary")
    )
    for part in (res.one_sample, res.hazard_ratio, res.rmst_registry, res.rmst_benchmark):
        assert part.n > 0 and part.events > 0 and part.caveats
    assert res.hazard_ratio.e_value.e_value > 1
    assert res.smr_e_value.e_value > 1
    codes = [c.code for c in res.caveats]
    assert {"external_comparator", "benchmark_secondary"} <= set(codes)
    json.dumps(res.to_dict(), allow_nan=False)


def test_a_test_benchmark_is_labelled_as_such(trial):
    res = compare_with_arm(trial["il2"], "time", "event", _digitise(trial["placebo"], "test arm", test_only=True))
    assert res.test_only
    assert "benchmark_test_only" in [c.code for c in res.caveats]
    assert "benchmark_test_only" in [c.code for c in res.one_sample.caveats]


def test_an_arm_without_numbers_at_risk_gives_the_smr_only(trial):
    arm = _digitise(trial["placebo"], "placebo")
    bare = DigitisedArm("curve only", arm.times, arm.survival)
    res = compare_with_arm(trial["il2"], "time", "event", bare)
    assert res.hazard_ratio is None and res.rmst_difference is None
    assert res.one_sample.expected > 0


def test_digitised_points_as_a_curve_give_smr_near_one_and_a_proportion_does_not():
    # Issue 13: on a cohort following a rising-hazard curve, the curve gives SMR ~ 1 and a
    # single proportion (constant hazard) ~ 0.87, a spurious benefit.
    cohort = _weibull_cohort(np.random.default_rng(3), 4000)
    grid = np.arange(20, 641, 20.0)
    arm = DigitisedArm("true curve", tuple(grid), tuple(np.exp(np.log(S640) * (grid / 640) ** SHAPE)))
    curve_smr = compare_with_arm(cohort, "time", "event", arm).one_sample.smr
    approx = compare_with_proportion(cohort, "time", "event", S640, 640, "one proportion")
    assert curve_smr == pytest.approx(1.0, abs=0.05)
    assert approx.one_sample.smr < 0.9
    assert approx.smr_band[0] < curve_smr < approx.smr_band[1]


def test_a_proportion_only_benchmark_is_labelled_approximate_with_a_shape_band(trial):
    res = compare_with_proportion(trial["il2"], "time", "event", 0.555, 640, "MIROCALS placebo", "secondary")
    assert res.label == "approximate: curve shape assumed"
    assert [r.shape for r in res.shapes] == [0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0]
    assert res.smr_band[0] <= res.one_sample.smr <= res.smr_band[1]
    assert res.rmst_benchmark_band[0] < res.rmst_benchmark_band[1]
    assert "benchmark_approximate" in [c.code for c in res.one_sample.caveats]
    json.dumps(res.to_dict(), allow_nan=False)


def test_restricted_mean_of_a_log_linear_curve_is_its_exact_integral():
    curve = BenchmarkCurve((100, 300, 640), (0.9, 0.7, 0.55))
    exact, _ = integrate.quad(lambda t: curve.survival_at(t)[0], 0, 640, points=[100, 300], epsabs=1e-11)
    assert curve.restricted_mean(640) == pytest.approx(exact, rel=1e-9)
    assert curve.restricted_mean(200) < curve.restricted_mean(640)


def test_restricted_mean_of_a_weibull_curve_is_its_exact_integral():
    curve = WeibullCurve(0.55, 640, 1.6)
    exact, _ = integrate.quad(lambda t: curve.survival_at(t)[0], 0, 500, epsabs=1e-11)
    assert curve.restricted_mean(500) == pytest.approx(exact, rel=1e-9)


def test_weibull_curve_passes_through_its_one_known_point():
    for shape in (0.8, 1.0, 2.0):
        assert WeibullCurve(0.55, 640, shape).survival_at(640)[0] == pytest.approx(0.55)


def test_reconstruction_feeds_on_the_arm_definition(trial):
    arm = _digitise(trial["placebo"], "placebo")
    direct = reconstruct_ipd(arm.times, arm.survival, arm.risk_times, arm.n_at_risk, arm.total_events)
    pd.testing.assert_frame_equal(arm.reconstruct().ipd, direct.ipd)
