"""Aalen-Johansen cumulative incidence with death competing, against R's multi-state survfit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analytics.stats import cumulative_incidence, kaplan_meier

pytestmark = pytest.mark.requirement("STA-04")

STATES = {0: "censored", 1: "ventilation", 2: "death"}


@pytest.fixture(scope="module")
def states(registry):
    return registry.assign(state=registry["status"].map(STATES))


def _matrix(rows: list) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


@pytest.mark.parametrize(
    ("key", "entry", "weights"),
    [("registry", None, None), ("registry_entry", "entry", None), ("registry_weighted", None, "w")],
)
def test_incidence_se_and_log_interval_match_r_survfit_multistate(states, r_result, key, entry, weights):
    expected = r_result("aalen_johansen")[key]
    res = cumulative_incidence(
        states,
        "time",
        "state",
        censored="censored",
        causes=["ventilation", "death"],
        entry_col=entry,
        weights_col=weights,
    )
    pstate, se = _matrix(expected["pstate"]), _matrix(expected["std_err"])
    lower, upper = _matrix(expected["lower"]), _matrix(expected["upper"])
    for curve in res.curves:
        col = expected["states"].index(curve.cause)
        tl = curve.timeline
        np.testing.assert_allclose(tl["time"], expected["time"])
        np.testing.assert_allclose(tl["cif"], pstate[:, col], atol=1e-12)
        np.testing.assert_allclose(tl["std_err"], se[:, col], atol=1e-12)
        shown = ~np.isnan(lower[:, col])
        np.testing.assert_allclose(tl["ci_lower"][shown], lower[shown, col], atol=1e-12)
        np.testing.assert_allclose(tl["ci_upper"][shown], upper[shown, col], atol=1e-12)


def test_incidences_and_event_free_survival_add_up_to_one(states):
    res = cumulative_incidence(states, "time", "state", censored="censored")
    event_free = kaplan_meier(states.assign(any=(states["status"] > 0).astype(int)), "time", "any")
    total = sum(c.timeline["cif"].to_numpy() for c in res.curves) + event_free.timeline["survival"].to_numpy()
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_competing_deaths_keep_the_incidence_below_one_minus_km(states):
    res = cumulative_incidence(states, "time", "state", censored="censored", times=[640])
    naive = kaplan_meier(states.assign(v=(states["status"] == 1).astype(int)), "time", "v", times=[640])
    assert res.curve("ventilation").at_times[0].cif < 1 - naive.at_times[0].survival


def test_each_curve_counts_its_own_and_competing_events(states):
    res = cumulative_incidence(states, "time", "state", censored="censored")
    vent = res.curve("ventilation")
    assert vent.events == int((states["status"] == 1).sum())
    assert vent.competing_events == int((states["status"] == 2).sum())
    assert res.n == len(states)


def test_a_status_that_is_neither_censored_nor_a_listed_cause_is_an_error(states):
    with pytest.raises(ValueError, match="neither censored nor a listed cause"):
        cumulative_incidence(states, "time", "state", censored="censored", causes=["death"])


def test_missing_status_is_refused_not_dropped(states):
    df = states.assign(state=states["state"].where(states.index != 0))
    with pytest.raises(ValueError, match="missing values in state"):
        cumulative_incidence(df, "time", "state", censored="censored")


def test_incidence_result_serialises_to_strict_json():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "s": ["death", "censored", "vent", "death"]})
    out = cumulative_incidence(df, "t", "s", censored="censored", times=[0.5, 3]).to_dict()
    json.dumps(out, allow_nan=False)
    assert out["curves"][0]["at_times"][0]["cif"] == 0.0
