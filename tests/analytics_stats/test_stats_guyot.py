"""Guyot (2012) reconstruction of pseudo-IPD from a digitised KM curve."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analytics.stats import kaplan_meier, reconstruct_ipd


@pytest.mark.parametrize("key", ["lung_no_total", "lung_total"])
def test_reconstruction_matches_the_authors_r_code_step_by_step(r_result, key):
    case = r_result("guyot")[key]
    res = reconstruct_ipd(
        case["km_times"], case["km_survival"], case["risk_times"], case["n_risk"], case["total_events"]
    )
    iv = res.intervals
    np.testing.assert_array_equal(iv["time"], case["points_time"])
    np.testing.assert_array_equal(iv["events"], case["d"])
    np.testing.assert_array_equal(iv["censored"], case["cen"])
    np.testing.assert_array_equal(iv["n_at_risk"], case["n_hat"])


def _digitise(df: pd.DataFrame, duration: str, step: float):
    """KM points at event times and a risk table every ``step``, as a figure shows."""
    km = kaplan_meier(df, duration, "event")
    ev = km.timeline[km.timeline["events"] > 0]
    risk_times = np.arange(0, km.timeline["time"].max(), step)
    n_risk = [n for _, n in km.n_at_risk_at(risk_times.tolist())]
    return km, ev["time"].to_numpy(), ev["survival"].to_numpy(), risk_times, n_risk


@pytest.mark.parametrize(
    ("dataset", "duration", "step"), [("lung", "time", 100), ("veteran", "time", 50), ("synthetic", "exit", 10)]
)
def test_km_of_reconstructed_ipd_reproduces_the_original_curve(request, dataset, duration, step):
    df = request.getfixturevalue(dataset)
    km, t, s, risk_times, n_risk = _digitise(df, duration, step)
    res = reconstruct_ipd(t, s, risk_times, n_risk, total_events=km.events)
    km2 = kaplan_meier(res.ipd, "time", "event")
    grid = np.linspace(0, t.max(), 300)
    original = np.array([a.survival for a in km.survival_at(grid)])
    rebuilt = np.array([a.survival for a in km2.survival_at(grid)])
    assert np.max(np.abs(original - rebuilt)) < 0.02
    assert abs(km2.median - km.median) <= step / 10


def test_reconstruction_keeps_the_published_number_of_patients_and_events(lung):
    km, t, s, risk_times, n_risk = _digitise(lung, "time", 100)
    res = reconstruct_ipd(t, s, risk_times, n_risk, total_events=km.events)
    assert res.n == len(res.ipd) == 228
    assert res.events == km.events == 165
    assert res.n_censored == 228 - 165


def test_reconstruction_tolerates_digitising_noise_and_repeated_times(lung):
    km, t, s, risk_times, n_risk = _digitise(lung, "time", 100)
    rng = np.random.default_rng(0)
    noisy = np.clip(s + rng.normal(0, 0.002, s.size), 0, 1)  # may wobble upwards
    t2 = np.concatenate([t, t[:10]])  # vertical drops digitised twice
    s2 = np.concatenate([noisy, noisy[:10] + 0.01])
    res = reconstruct_ipd(t2, s2, risk_times, n_risk, total_events=km.events)
    km2 = kaplan_meier(res.ipd, "time", "event")
    grid = np.linspace(0, t.max(), 100)
    diff = np.array([a.survival for a in km.survival_at(grid)]) - np.array([a.survival for a in km2.survival_at(grid)])
    assert np.max(np.abs(diff)) < 0.03


def test_risk_intervals_without_digitised_points_are_handled():
    # No events between 10 and 20: the flat stretch has no digitised point.
    res = reconstruct_ipd([5, 8, 25, 28], [0.9, 0.8, 0.7, 0.6], [0, 10, 20], [10, 8, 7])
    assert res.n == 10
    assert (res.ipd["time"] >= 0).all()


def test_risk_table_must_start_at_zero():
    with pytest.raises(ValueError, match="start at time 0"):
        reconstruct_ipd([5, 10], [0.9, 0.8], [5, 10], [10, 8])


def test_numbers_at_risk_may_not_increase():
    with pytest.raises(ValueError, match="must not increase"):
        reconstruct_ipd([5, 10], [0.9, 0.8], [0, 5], [10, 12])


def test_reconstruction_carries_the_reconstructed_benchmark_caveat_and_serialises(lung):
    _, t, s, risk_times, n_risk = _digitise(lung, "time", 100)
    res = reconstruct_ipd(t, s, risk_times, n_risk)
    assert [c.code for c in res.caveats] == ["benchmark_reconstructed"]
    out = res.to_dict()
    json.dumps(out, allow_nan=False)
    assert out["ipd"][0].keys() == {"time", "event"}
