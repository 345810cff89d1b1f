"""ALSFRS-R slope: per-patient OLS slopes and their cohort mean."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analytics.stats import alsfrs_slope


def _visits(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "months", "total"])


def test_slope_of_a_straight_decline_is_exact():
    df = _visits([("a", 0, 40), ("a", 3, 37), ("a", 6, 34)])
    res = alsfrs_slope(df)
    assert res.per_patient.loc[0, "slope"] == pytest.approx(-1.0)
    assert res.mean_slope == pytest.approx(-1.0)


def test_patients_with_fewer_than_two_visits_are_excluded_and_counted():
    df = _visits([("a", 0, 40), ("a", 6, 34), ("b", 0, 45), ("c", 1, 30), ("c", 1, 29)])
    res = alsfrs_slope(df)
    assert res.n == 1
    assert res.n_excluded_patients == 2  # b has one visit; c has two at the same time
    assert res.n_excluded_visits == 3
    assert res.n_visits == 2


def test_cohort_slope_is_mean_of_patient_slopes_with_t_interval():
    df = _visits([("a", 0, 40), ("a", 6, 34), ("b", 0, 44), ("b", 4, 36), ("c", 0, 30), ("c", 10, 25)])
    res = alsfrs_slope(df)
    slopes = np.array([-1.0, -2.0, -0.5])
    half = stats.t.ppf(0.975, 2) * slopes.std(ddof=1) / math.sqrt(3)
    assert res.mean_slope == pytest.approx(slopes.mean())
    assert (res.ci_lower, res.ci_upper) == pytest.approx((slopes.mean() - half, slopes.mean() + half))
    assert res.median_slope == pytest.approx(-1.0)


def test_every_patient_counts_equally_whatever_their_number_of_visits():
    many = [("a", m, 40 - m) for m in range(10)]
    df = _visits([*many, ("b", 0, 40), ("b", 1, 37)])
    assert alsfrs_slope(df).mean_slope == pytest.approx((-1 + -3) / 2)


def test_single_patient_has_no_confidence_interval():
    res = alsfrs_slope(_visits([("a", 0, 40), ("a", 6, 34)]))
    assert math.isnan(res.ci_lower) and math.isnan(res.ci_upper)


def test_rows_with_missing_scores_are_ignored():
    df = _visits([("a", 0, 40), ("a", 3, np.nan), ("a", 6, 34)])
    res = alsfrs_slope(df)
    assert res.n_visits == 2
    assert res.mean_slope == pytest.approx(-1.0)


def test_totals_outside_0_to_48_are_rejected():
    with pytest.raises(ValueError, match="between 0 and 48"):
        alsfrs_slope(_visits([("a", 0, 49), ("a", 3, 40)]))


def test_custom_column_names_are_supported():
    df = pd.DataFrame({"pid": [1, 1], "t": [0, 2], "score": [40, 38]})
    assert alsfrs_slope(df, patient_col="pid", time_col="t", score_col="score").mean_slope == pytest.approx(-1.0)


def test_alsfrs_slope_to_dict_is_json_serialisable():
    out = alsfrs_slope(_visits([("a", 0, 40), ("a", 6, 34)])).to_dict()
    json.dumps(out, allow_nan=False)
    assert {"n", "events", "mean_slope", "ci_lower", "ci_upper", "per_patient"} <= out.keys()


@settings(max_examples=100, deadline=None)
@given(st.floats(-3, 0.5), st.floats(20, 48), st.lists(st.integers(0, 730), min_size=2, max_size=8, unique=True))
def test_noise_free_linear_trajectories_recover_their_slope(slope, start, days):
    months = [d / 30.4375 for d in days]
    totals = [min(48.0, max(0.0, start + slope * m)) for m in months]
    if any(t in (0.0, 48.0) for t in totals):
        return  # clipped at the scale's floor or ceiling: not linear
    df = pd.DataFrame({"patient_id": 1, "months": months, "total": totals})
    assert alsfrs_slope(df).mean_slope == pytest.approx(slope, abs=1e-7)
