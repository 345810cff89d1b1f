"""Kaplan-Meier: agreement with R survfit(conf.type="log-log") and core rules."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.stats import kaplan_meier

pytestmark = pytest.mark.requirement("STA-01")

TOL = 1e-6

# fixture key -> (dataset fixture, filter, duration, entry, times)
R_CASES = {
    "lung": ("lung", None, "time", None, (30, 365, 640)),
    "lung_male": ("lung", ("sex", 1), "time", None, (365, 640)),
    "veteran": ("veteran", None, "time", None, (30, 100, 365)),
    "synthetic_no_entry": ("synthetic", None, "exit", None, (20, 52, 100)),
    "synthetic_delayed_entry": ("synthetic", None, "exit", "entry", (20, 52, 100)),
}


def _r_array(values: list[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def _fit_case(request: pytest.FixtureRequest, key: str):
    dataset, filt, duration, entry, times = R_CASES[key]
    df = request.getfixturevalue(dataset)
    if filt is not None:
        df = df[df[filt[0]] == filt[1]]
    return kaplan_meier(df, duration, "event", entry_col=entry, times=times, risk_times=times)


@pytest.mark.parametrize("key", list(R_CASES))
def test_km_survival_and_risk_sets_match_r_survfit(request, r_result, key):
    r = r_result("km")[key]
    km = _fit_case(request, key)
    tl = km.timeline
    np.testing.assert_array_equal(tl["time"], r["time"])
    np.testing.assert_array_equal(tl["n_at_risk"], r["n_risk"])
    np.testing.assert_array_equal(tl["events"], r["n_event"])
    np.testing.assert_array_equal(tl["censored"], r["n_censor"])
    np.testing.assert_allclose(tl["survival"], r["surv"], rtol=0, atol=TOL)
    assert km.n == r["n"]
    assert km.events == r["events"]


@pytest.mark.parametrize("key", list(R_CASES))
def test_km_log_log_confidence_interval_matches_r_where_r_defines_it(request, r_result, key):
    r = r_result("km")[key]
    km = _fit_case(request, key)
    for col, rkey in (("ci_lower", "lower"), ("ci_upper", "upper")):
        expected = _r_array(r[rkey])
        defined = ~np.isnan(expected)
        np.testing.assert_allclose(km.timeline[col].to_numpy()[defined], expected[defined], atol=TOL)


@pytest.mark.parametrize("key", list(R_CASES))
def test_km_median_and_its_ci_match_r_quantile(request, r_result, key):
    r = r_result("km")[key]
    km = _fit_case(request, key)
    for ours, theirs in (
        (km.median, r["median"]),
        (km.median_ci_lower, r["median_lower"]),
        (km.median_ci_upper, r["median_upper"]),
    ):
        if theirs is None:
            assert math.isnan(ours)
        else:
            assert ours == pytest.approx(theirs, abs=TOL)


@pytest.mark.parametrize("key", list(R_CASES))
def test_km_survival_at_requested_times_matches_r_summary(request, r_result, key):
    r = r_result("km")[key]["at_times"]
    km = _fit_case(request, key)
    assert [a.time for a in km.at_times] == r["time"]
    np.testing.assert_allclose([a.survival for a in km.at_times], r["surv"], atol=TOL)
    np.testing.assert_allclose([a.ci_lower for a in km.at_times], r["lower"], atol=TOL)
    np.testing.assert_allclose([a.ci_upper for a in km.at_times], r["upper"], atol=TOL)
    assert [a.n_at_risk for a in km.at_times] == r["n_risk"]
    assert [n for _, n in km.risk_table] == r["n_risk"]


@pytest.mark.parametrize("dataset", ["half_then_more", "half_at_end"])
def test_km_median_on_an_exact_half_is_the_midpoint_as_in_r(tiny, r_result, dataset):
    r = r_result("km")[f"tiny_{dataset}"]
    km = kaplan_meier(tiny[tiny["dataset"] == dataset], "time", "event")
    assert km.median == pytest.approx(r["median"])
    assert km.median_ci_lower == pytest.approx(r["median_lower"])
    assert math.isnan(km.median_ci_upper) and r["median_upper"] is None


def test_km_median_is_nan_when_survival_never_reaches_half():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 0, 0]})
    assert math.isnan(kaplan_meier(df, "t", "e").median)


def test_km_matches_lifelines_exponential_greenwood_interval(lung):
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter().fit(lung["time"], lung["event"])
    km = kaplan_meier(lung, "time", "event")
    ci = kmf.confidence_interval_.loc[km.timeline["time"]]
    np.testing.assert_allclose(km.timeline["survival"], kmf.survival_function_.loc[km.timeline["time"]].iloc[:, 0])
    np.testing.assert_allclose(km.timeline["ci_lower"], ci.iloc[:, 0], atol=1e-9)
    np.testing.assert_allclose(km.timeline["ci_upper"], ci.iloc[:, 1], atol=1e-9)


def test_km_ci_is_degenerate_at_one_before_the_first_event():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [0, 1, 1, 0]})
    first = kaplan_meier(df, "t", "e").timeline.iloc[0]
    assert (first["survival"], first["ci_lower"], first["ci_upper"]) == (1.0, 1.0, 1.0)


def test_km_ci_is_undefined_once_survival_reaches_zero():
    df = pd.DataFrame({"t": [1, 2], "e": [1, 1]})
    last = kaplan_meier(df, "t", "e").timeline.iloc[-1]
    assert last["survival"] == 0.0
    assert math.isnan(last["ci_lower"]) and math.isnan(last["ci_upper"])


def test_km_survival_beyond_last_follow_up_is_not_estimable():
    df = pd.DataFrame({"t": [10, 20, 30], "e": [1, 0, 0]})
    (late,) = kaplan_meier(df, "t", "e", times=[31]).at_times
    assert late.estimable is False
    assert math.isnan(late.survival)


def test_km_survival_after_everyone_has_died_stays_zero():
    df = pd.DataFrame({"t": [10, 20], "e": [1, 1]})
    (late,) = kaplan_meier(df, "t", "e", times=[50]).at_times
    assert (late.survival, late.estimable) == (0.0, True)


def test_km_survival_before_first_time_is_one():
    df = pd.DataFrame({"t": [10, 20, 30], "e": [1, 0, 1]})
    (early,) = kaplan_meier(df, "t", "e", times=[5]).at_times
    assert (early.survival, early.ci_lower, early.ci_upper, early.n_at_risk) == (1.0, 1.0, 1.0, 3)


def test_km_survival_at_an_event_time_includes_that_event():
    df = pd.DataFrame({"t": [10, 20, 30, 40], "e": [1, 1, 0, 0]})
    (at10,) = kaplan_meier(df, "t", "e", times=[10]).at_times
    assert at10.survival == pytest.approx(0.75)


def test_km_delayed_entry_keeps_patients_out_of_risk_sets_before_entry():
    # Patient C enters at 15, so the death at 10 is 1 of 2 at risk, not 1 of 3.
    df = pd.DataFrame({"id": list("ABC"), "entry": [0, 0, 15], "exit": [10, 30, 30], "event": [1, 0, 0]})
    km = kaplan_meier(df, "exit", "event", entry_col="entry")
    row = km.timeline.set_index("time").loc[10]
    assert row["n_at_risk"] == 2
    assert row["survival"] == pytest.approx(0.5)


def test_km_patient_entering_at_an_event_time_is_not_at_risk_for_it():
    df = pd.DataFrame({"entry": [0, 0, 10], "exit": [10, 20, 20], "event": [1, 0, 0]})
    km = kaplan_meier(df, "exit", "event", entry_col="entry")
    assert km.timeline.set_index("time").loc[10, "n_at_risk"] == 2


def test_km_with_delayed_entry_carries_the_left_truncation_caveat(synthetic):
    km = kaplan_meier(synthetic, "exit", "event", entry_col="entry")
    assert "left_truncation" in {c.code for c in km.caveats}
    assert km.left_truncated


def test_km_risk_table_at_origin_counts_patients_observed_from_the_start():
    df = pd.DataFrame({"entry": [0, 0, 5], "exit": [10, 20, 20], "event": [1, 0, 0]})
    km = kaplan_meier(df, "exit", "event", entry_col="entry", risk_times=[0, 6, 15])
    assert km.risk_table == ((0.0, 2), (6.0, 3), (15.0, 2))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"entry": [5.0], "exit": [5.0], "event": [1]}), "strictly less"),
        (pd.DataFrame({"entry": [0.0], "exit": [5.0], "event": [2]}), "coded 0"),
        (pd.DataFrame({"entry": [0.0], "exit": [np.nan], "event": [1]}), "missing"),
        (pd.DataFrame({"entry": [0.0], "exit": [-1.0], "event": [1]}), ">= 0"),
        (pd.DataFrame({"entry": [], "exit": [], "event": []}), "no rows"),
    ],
)
def test_km_rejects_invalid_survival_data(frame, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(frame, "exit", "event", entry_col="entry")


def test_km_rejects_unknown_columns():
    with pytest.raises(KeyError, match="nope"):
        kaplan_meier(pd.DataFrame({"t": [1], "e": [1]}), "t", "nope")


def test_km_to_dict_is_json_serialisable_and_has_n_events_and_ci(lung):
    out = kaplan_meier(lung, "time", "event", times=[365, 640]).to_dict()
    text = json.dumps(out, allow_nan=False)
    assert out["n"] == 228 and out["events"] == 165
    assert {"median", "median_ci_lower", "median_ci_upper"} <= out.keys()
    assert out["timeline"][0].keys() == {"time", "n_at_risk", "events", "censored", "survival", "ci_lower", "ci_upper"}
    assert "_entry" not in text


survival_frames = st.lists(
    st.tuples(st.integers(min_value=1, max_value=60), st.booleans()), min_size=1, max_size=60
).map(lambda rows: pd.DataFrame({"t": [r[0] for r in rows], "e": [int(r[1]) for r in rows]}))


@settings(max_examples=150, deadline=None)
@given(survival_frames)
def test_km_survival_is_non_increasing_and_within_unit_interval(df):
    s = kaplan_meier(df, "t", "e").timeline["survival"].to_numpy()
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 1e-15)


@settings(max_examples=150, deadline=None)
@given(survival_frames)
def test_km_confidence_interval_contains_the_estimate(df):
    tl = kaplan_meier(df, "t", "e").timeline
    defined = tl["ci_lower"].notna()
    assert np.all(tl.loc[defined, "ci_lower"] <= tl.loc[defined, "survival"] + 1e-12)
    assert np.all(tl.loc[defined, "survival"] <= tl.loc[defined, "ci_upper"] + 1e-12)


@settings(max_examples=100, deadline=None)
@given(survival_frames)
def test_km_counts_add_up_to_the_number_of_patients(df):
    km = kaplan_meier(df, "t", "e")
    assert km.timeline["events"].sum() + km.timeline["censored"].sum() == km.n == len(df)
    assert km.events == df["e"].sum()
