"""Log-rank test: agreement with R survdiff and its defining rules."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.stats import logrank

pytestmark = pytest.mark.requirement("STA-01")

R_CASES = {
    "lung_sex": ("lung", "time", "sex"),
    "veteran_celltype": ("veteran", "time", "celltype"),
    "synthetic_group": ("synthetic", "exit", "group"),
}


@pytest.mark.parametrize("key", list(R_CASES))
def test_logrank_chi2_and_df_match_r_survdiff(request, r_result, key):
    dataset, duration, group = R_CASES[key]
    r = r_result("logrank")[key]
    res = logrank(request.getfixturevalue(dataset), duration, "event", group)
    assert res.chi2 == pytest.approx(r["chisq"], rel=1e-6)
    assert res.df == r["df"]
    assert res.p == pytest.approx(r["p"], rel=1e-6)


@pytest.mark.parametrize("key", list(R_CASES))
def test_logrank_observed_and_expected_per_group_match_r(request, r_result, key):
    dataset, duration, group = R_CASES[key]
    r = r_result("logrank")[key]
    res = logrank(request.getfixturevalue(dataset), duration, "event", group)
    assert [g.group for g in res.groups] == r["groups"]
    assert [g.n for g in res.groups] == r["n"]
    np.testing.assert_allclose([g.observed for g in res.groups], r["observed"], rtol=1e-6)
    np.testing.assert_allclose([g.expected for g in res.groups], r["expected"], rtol=1e-6)


def test_logrank_expected_events_sum_to_observed_events(veteran):
    res = logrank(veteran, "time", "event", "celltype")
    assert sum(g.expected for g in res.groups) == pytest.approx(res.events)
    assert sum(g.events for g in res.groups) == res.events
    assert sum(g.n for g in res.groups) == res.n == len(veteran)


def test_logrank_of_identical_groups_is_zero():
    one = pd.DataFrame({"t": [1, 2, 3, 4, 5], "e": [1, 0, 1, 1, 0]})
    df = pd.concat([one.assign(g="a"), one.assign(g="b")])
    res = logrank(df, "t", "e", "g")
    assert res.chi2 == pytest.approx(0.0, abs=1e-12)
    assert res.p == pytest.approx(1.0)


def test_logrank_needs_two_groups():
    df = pd.DataFrame({"t": [1, 2], "e": [1, 1], "g": ["a", "a"]})
    with pytest.raises(ValueError, match="two groups"):
        logrank(df, "t", "e", "g")


def test_logrank_with_everyone_entering_at_zero_equals_the_plain_test(synthetic):
    plain = logrank(synthetic, "exit", "event", "group")
    entered = logrank(synthetic.assign(zero=0), "exit", "event", "group", entry_col="zero")
    assert entered.chi2 == pytest.approx(plain.chi2, rel=1e-12)


def test_logrank_delayed_entry_removes_patients_from_early_risk_sets():
    # Group b's patient enters at 5, so the death at 2 is expected in a only.
    df = pd.DataFrame({"entry": [0, 0, 5], "exit": [2, 10, 10], "event": [1, 0, 1], "g": ["a", "a", "b"]})
    res = logrank(df, "exit", "event", "g", entry_col="entry")
    expected = {g.group: g.expected for g in res.groups}
    # t=2: a has 2 at risk, b none -> E_a += 1. t=10: a 1, b 1 at risk, 1 death -> 0.5 each.
    assert expected == pytest.approx({"a": 1.5, "b": 0.5})


def test_logrank_reports_caveats_for_non_randomised_comparison(lung):
    codes = {c.code for c in logrank(lung, "time", "event", "sex").caveats}
    assert {"real_world_non_randomised", "confounding", "immortal_time_bias"} <= codes


def test_logrank_to_dict_is_json_serialisable(lung):
    out = logrank(lung, "time", "event", "sex").to_dict()
    json.dumps(out, allow_nan=False)
    assert out["groups"][0].keys() == {"group", "n", "events", "observed", "expected"}


two_group_frames = st.lists(
    st.tuples(st.integers(1, 30), st.booleans(), st.sampled_from(["a", "b", "c"])),
    min_size=4,
    max_size=50,
).map(lambda rows: pd.DataFrame({"t": [r[0] for r in rows], "e": [int(r[1]) for r in rows], "g": [r[2] for r in rows]}))


@settings(max_examples=100, deadline=None)
@given(two_group_frames)
def test_logrank_chi2_is_non_negative_and_invariant_to_group_relabelling(df):
    if df["g"].nunique() < 2 or df["e"].sum() == 0:
        return
    res = logrank(df, "t", "e", "g")
    relabelled = logrank(df.assign(g=df["g"].map({"a": "z", "b": "y", "c": "x"})), "t", "e", "g")
    assert res.chi2 >= -1e-12
    assert relabelled.chi2 == pytest.approx(res.chi2, rel=1e-9, abs=1e-9)


def _logrank_by_definition(df: pd.DataFrame, entry: str | None) -> tuple[dict[str, float], float]:
    """Expected events per group and the first group's variance, event time by event time."""
    groups = sorted(df["g"].unique())
    expected = dict.fromkeys(groups, 0.0)
    variance = 0.0
    for t in sorted(df.loc[df["e"] == 1, "t"].unique()):
        at_risk = (df["t"] >= t) & ((df[entry] < t) if entry else True)
        n_t, d_t = at_risk.sum(), ((df["t"] == t) & (df["e"] == 1)).sum()
        for g in groups:
            share = (at_risk & (df["g"] == g)).sum() / n_t
            expected[g] += d_t * share
            if g == groups[0] and n_t > 1:
                variance += d_t * (n_t - d_t) / (n_t - 1) * share * (1 - share)
    return expected, variance


delayed_frames = st.lists(
    st.tuples(st.integers(0, 12), st.integers(1, 12), st.booleans(), st.sampled_from(["a", "b", "c"])),
    min_size=3,
    max_size=40,
).map(
    lambda rows: pd.DataFrame(
        {
            "s": [r[0] for r in rows],
            "t": [r[0] + r[1] for r in rows],
            "e": [int(r[2]) for r in rows],
            "g": [r[3] for r in rows],
        }
    )
)


@settings(max_examples=150, deadline=None)
@given(delayed_frames, st.booleans())
def test_logrank_expected_events_and_variance_follow_the_per_event_time_definition(df, delayed):
    if df["g"].nunique() < 2 or df["e"].sum() == 0:
        return
    entry = "s" if delayed else None
    res = logrank(df, "t", "e", "g", entry_col=entry)
    expected, variance = _logrank_by_definition(df, entry)
    assert {g.group: g.expected for g in res.groups} == pytest.approx(expected, abs=1e-9)
    assert {g.group: g.observed for g in res.groups} == df[df["e"] == 1].groupby("g").size().reindex(
        sorted(expected), fill_value=0
    ).to_dict()
    if df["g"].nunique() == 2 and variance > 1e-9:
        first = res.groups[0]
        assert res.chi2 == pytest.approx((first.observed - first.expected) ** 2 / variance, rel=1e-9)
