"""ENCALS prediction model: domain.md section 4 test vectors and derived quantities."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.stats import encals
from analytics.stats.encals import EncalsPredictors

# (age, delay, ΔFS, FVC, bulbar, definite, FTD, C9) -> LP, S(24), S(36), S(60), median
VECTORS = [
    ((60, 12, 0.5, 90, 0, 0, 0, 0), -4.68, (0.84, 0.55, 0.18), 38.2),
    ((65, 6, 1.2, 75, 1, 1, 0, 0), -2.41, (0.35, 0.11, 0.02), 20.3),
    ((50, 20, 0.2, 100, 0, 0, 0, 0), -6.79, (0.98, 0.91, 0.65), 74.0),
]


def _patient(values: tuple) -> EncalsPredictors:
    age, delay, dfs, fvc, bulbar, definite, ftd, c9 = values
    return EncalsPredictors(age, delay, dfs, fvc, bool(bulbar), bool(definite), bool(ftd), bool(c9))


@pytest.mark.parametrize(("inputs", "lp", "surv", "median"), VECTORS)
def test_encals_linear_predictor_matches_reference_vector(inputs, lp, surv, median):
    assert round(encals.linear_predictor(_patient(inputs)), 2) == lp


@pytest.mark.parametrize(("inputs", "lp", "surv", "median"), VECTORS)
def test_encals_survival_at_24_36_60_months_matches_reference_vector(inputs, lp, surv, median):
    s = encals.survival([24, 36, 60], encals.linear_predictor(_patient(inputs)))
    assert tuple(np.round(s, 2)) == surv


@pytest.mark.parametrize(("inputs", "lp", "surv", "median"), VECTORS)
def test_encals_median_matches_reference_vector_to_a_tenth_of_a_month(inputs, lp, surv, median):
    assert encals.median_survival(encals.linear_predictor(_patient(inputs))) == pytest.approx(median, abs=0.1)


def test_encals_median_is_where_predicted_survival_is_one_half():
    lp = -4.0
    assert encals.survival(encals.median_survival(lp), lp)[0] == pytest.approx(0.5)


def test_spline_uses_the_cube_on_the_kmax_term():
    # Beyond kmax the public code's missing cube would change s(x); with the
    # cube, a restricted cubic spline is linear beyond the last knot.
    x = np.array([6.0, 6.5, 7.0])
    s = encals.baseline_spline(x)
    assert np.diff(s, 2)[0] == pytest.approx(0.0, abs=1e-9)


def test_spline_is_a_straight_line_below_the_first_knot():
    x = np.array([-1.0, 0.0, 0.05])
    np.testing.assert_allclose(encals.baseline_spline(x), -6.409 + 2.643 * x)


def test_survival_at_onset_is_one():
    assert encals.survival(0, -4.0)[0] == 1.0


def test_conditional_survival_is_survival_ratio_since_entry():
    lp = -3.5
    cond = encals.conditional_survival([30, 48], 18, lp)
    np.testing.assert_allclose(cond, encals.survival([30, 48], lp) / encals.survival(18, lp)[0])
    assert encals.conditional_survival(18, 18, lp)[0] == pytest.approx(1.0)


def test_expected_cumulative_hazard_is_minus_log_conditional_survival():
    lp = -3.5
    e = encals.expected_cumulative_hazard(18, 40, lp)
    assert e == pytest.approx(-math.log(encals.conditional_survival(40, 18, lp)[0]))


def test_worse_linear_predictor_means_lower_survival():
    assert encals.survival(36, -3.0)[0] < encals.survival(36, -5.0)[0]


def test_tricals_profile_ignores_c9orf72():
    base = EncalsPredictors(60, 12, 0.5, 90)
    with_c9 = EncalsPredictors(60, 12, 0.5, 90, c9orf72=True)
    model = encals.TRICALS_RISK_PROFILE
    assert encals.linear_predictor(base, model) == encals.linear_predictor(with_c9, model)
    assert encals.linear_predictor(with_c9) - encals.linear_predictor(base) == pytest.approx(0.256)


@pytest.mark.parametrize(
    ("field", "value"),
    [("diagnostic_delay_months", 0), ("age_at_onset", 0), ("fvc_percent", 0), ("delta_fs", -0.2)],
)
def test_linear_predictor_rejects_values_outside_the_transform_domain(field, value):
    kwargs = {"age_at_onset": 60, "diagnostic_delay_months": 12, "delta_fs": 0.5, "fvc_percent": 90}
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        encals.linear_predictor(EncalsPredictors(**kwargs))


def test_encals_smr_sums_expected_hazard_from_entry_to_exit():
    df = pd.DataFrame(
        {"entry": [18.0, 24.0, 12.0], "exit": [30.0, 40.0, 20.0], "event": [1, 0, 1], "lp": [-3.0, -4.5, -2.5]}
    )
    res = encals.encals_smr(df, "entry", "exit", "event", "lp")
    expected = sum(encals.expected_cumulative_hazard(a, b, c) for a, b, c in df[["entry", "exit", "lp"]].to_numpy())
    assert res.expected == pytest.approx(expected)
    assert res.observed == 2
    assert res.smr == pytest.approx(2 / expected)
    codes = {c.code for c in res.caveats}
    assert {"encals_coefficients_unverified", "left_truncation"} <= codes
    json.dumps(res.to_dict(), allow_nan=False)


def test_encals_smr_is_near_one_when_events_follow_the_model():
    rng = np.random.default_rng(3)
    n = 3000
    lp = rng.uniform(-6, -3, n)
    entry = rng.uniform(6, 24, n)
    # Draw event times from the conditional model by inverting S(t)/S(entry).
    u = rng.uniform(size=n)
    grid = np.linspace(0.5, 400, 4000)
    times = np.empty(n)
    for i in range(n):
        cond = encals.conditional_survival(grid[grid >= entry[i]], entry[i], lp[i])
        hit = np.nonzero(cond <= u[i])[0]
        times[i] = grid[grid >= entry[i]][hit[0]] if hit.size else 400.0
    exit_ = np.minimum(times, entry + 24)
    df = pd.DataFrame({"entry": entry, "exit": exit_, "event": (times <= entry + 24).astype(int), "lp": lp})
    res = encals.encals_smr(df, "entry", "exit", "event", "lp")
    assert res.smr_ci_lower < 1 < res.smr_ci_upper


@settings(max_examples=100, deadline=None)
@given(st.floats(-8, 0), st.floats(1, 200), st.floats(0.1, 100))
def test_encals_survival_decreases_over_time(lp, t, dt):
    s1, s2 = encals.survival([t, t + dt], lp)
    assert 0 <= s2 <= s1 <= 1
