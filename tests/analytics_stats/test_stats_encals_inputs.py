"""ENCALS predictors from the dataset: unknown is missing, never negative, and counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.stats import encals_inputs


def _frame(**overrides) -> pd.DataFrame:
    base = {
        "age_at_onset": [60.0, 65.0, 50.0],
        "diagnostic_delay_months": [12.0, 6.0, 20.0],
        "dfs_diagnosis": [0.5, 1.2, 0.2],
        "fvc_diagnosis": [90.0, 75.0, 100.0],
        "bulbar_onset": pd.array([False, True, False], dtype="boolean"),
        "el_escorial": ["probable", "definite", "possible"],
        "ftd": ["no", "no", "no"],
        "c9orf72": ["negative", "negative", "negative"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_domain_test_vectors_give_the_published_linear_predictors():
    res = encals_inputs(_frame())
    np.testing.assert_allclose(res.frame["lp"], [-4.68, -2.41, -6.79], atol=0.005)
    assert res.complete == 3 and not res.caveats


def test_unknown_c9orf72_is_missing_not_negative():
    res = encals_inputs(_frame(c9orf72=["negative", "unknown", None]))
    assert np.isnan(res.frame.loc[1, "c9orf72"]) and np.isnan(res.frame.loc[1, "lp"])
    row = next(m for m in res.missingness if m.predictor == "c9orf72")
    assert (row.unknown, row.empty, row.missing) == (1, 1, 2)


def test_missing_flags_bound_the_linear_predictor_between_zero_and_one():
    res = encals_inputs(_frame(ftd=["unknown", "no", "no"]))
    frame = res.frame
    assert frame.loc[0, "lp_low"] == pytest.approx(-4.679313, abs=1e-5)
    assert frame.loc[0, "lp_high"] - frame.loc[0, "lp_low"] == pytest.approx(0.388)
    assert res.flags_only_missing == 1
    assert "encals_missing_predictors" in [c.code for c in res.caveats]


def test_a_predictor_outside_the_model_range_is_missing_and_counted():
    res = encals_inputs(_frame(diagnostic_delay_months=[0.0, 6.0, 20.0]))
    row = next(m for m in res.missingness if m.predictor == "diagnostic_delay_months")
    assert row.out_of_range == 1 and res.continuous_missing == 1
    assert np.isnan(res.frame.loc[0, "lp_low"])


def test_the_report_states_how_missing_predictors_were_handled():
    assert "complete case" in encals_inputs(_frame()).handling
