"""Restricted mean survival time: R's print(survfit(...), rmean = tau) estimate and SE."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analytics.stats import rmst, rmst_difference

pytestmark = pytest.mark.requirement("STA-04")

CASES = {
    "registry_640": ("registry", "time", "death", None, None),
    "registry_route1_640": ("registry", "time", "death", None, "route == 1"),
    "registry_entry_640": ("registry", "time", "death", "entry", None),
    "lung_365": ("lung", "time", "event", None, None),
    "lung_tau_beyond_follow_up": ("lung", "time", "event", None, "time <= 500"),
    "veteran_100": ("veteran", "time", "event", None, None),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_rmst_and_its_standard_error_match_r_survmean(request, r_result, key):
    dataset, duration, event, entry, subset = CASES[key]
    df = request.getfixturevalue(dataset)
    if subset:
        df = df.query(subset)
    expected = r_result("rmst")[key]
    res = rmst(df, duration, event, expected["tau"], entry_col=entry)
    assert res.rmst == pytest.approx(expected["rmean"], rel=1e-9)
    assert res.se == pytest.approx(expected["se"], rel=1e-9)
    assert res.n == expected["n"]


def test_rmst_interval_is_estimate_plus_minus_z_se(registry):
    res = rmst(registry, "time", "death", 640)
    assert res.ci_lower == pytest.approx(res.rmst - 1.959963984540054 * res.se)
    assert res.ci_upper == pytest.approx(res.rmst + 1.959963984540054 * res.se)


def test_rmst_counts_only_events_up_to_the_horizon():
    df = pd.DataFrame({"t": [100, 200, 700, 800], "e": [1, 0, 1, 1]})
    assert rmst(df, "t", "e", 640).events == 1


def test_rmst_beyond_the_last_follow_up_is_flagged(lung):
    res = rmst(lung.query("time <= 500"), "time", "event", 800)
    assert res.follow_up_reaches_tau is False
    assert "rmst_extrapolated" in [c.code for c in res.caveats]


def test_rmst_of_a_cohort_without_events_is_the_horizon():
    res = rmst(pd.DataFrame({"t": [700, 800], "e": [0, 0]}), "t", "e", 640)
    assert res.rmst == 640 and res.se == 0


def test_rmst_difference_adds_variances_of_independent_groups(registry):
    a = rmst(registry.query("route == 1"), "time", "death", 640, label="route 1")
    b = rmst(registry.query("route == 0"), "time", "death", 640, label="route 0")
    diff = rmst_difference(a, b)
    assert diff.difference == pytest.approx(a.rmst - b.rmst)
    assert diff.se == pytest.approx((a.se**2 + b.se**2) ** 0.5)
    assert diff.ci_lower < diff.difference < diff.ci_upper
    assert diff.n == a.n + b.n
    json.dumps(diff.to_dict(), allow_nan=False)


def test_rmsts_at_different_horizons_are_not_compared(registry):
    with pytest.raises(ValueError, match="different horizons"):
        rmst_difference(rmst(registry, "time", "death", 640), rmst(registry, "time", "death", 365))


def test_rmst_refuses_a_non_positive_horizon(registry):
    with pytest.raises(ValueError, match="tau"):
        rmst(registry, "time", "death", 0)
