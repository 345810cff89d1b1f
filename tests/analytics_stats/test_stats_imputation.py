"""Multiple imputation by chained equations for Cox covariates, and Rubin's rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.stats import cox, cox_multiple_imputation, rubin_pool
from analytics.stats.imputation import impute_chained, nelson_aalen_at_exit

pytestmark = pytest.mark.requirement("STA-04")


def test_rubin_rules_pool_means_and_add_between_variance():
    est = np.array([[0.50], [0.60], [0.55], [0.45]])
    var = np.array([[0.010], [0.012], [0.011], [0.009]])
    (term,) = rubin_pool(est, var, ["x"])
    b = np.var(est[:, 0], ddof=1)
    total = 0.0105 + (1 + 1 / 4) * b
    r = (1 + 1 / 4) * b / 0.0105
    df = 3 * (1 + 1 / r) ** 2
    assert term.coef == pytest.approx(0.525)
    assert term.se == pytest.approx(math.sqrt(total))
    assert term.df == pytest.approx(df)
    assert term.hr_ci_upper == pytest.approx(math.exp(0.525 + stats.t.ppf(0.975, df) * math.sqrt(total)))
    assert term.fraction_missing_information == pytest.approx((r + 2 / (df + 3)) / (r + 1))


def test_rubin_rules_need_two_imputations():
    with pytest.raises(ValueError, match="at least two"):
        rubin_pool(np.array([[0.5]]), np.array([[0.01]]), ["x"])


def test_nelson_aalen_hazard_at_each_exit():
    h = nelson_aalen_at_exit(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 0, 1]))
    np.testing.assert_allclose(h, [1 / 4, 1 / 4 + 1 / 3, 1 / 4 + 1 / 3, 1 / 4 + 1 / 3 + 1])


def _mar_cohort(seed: int = 7, n: int = 1500) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0, 1, n)
    x2 = (rng.random(n) < 0.4).astype(float)
    x3 = 0.6 * x1 + rng.normal(0, 0.8, n)
    t = rng.exponential(500 / np.exp(0.5 * x1 - 0.5 * x2 + 0.3 * x3))
    c = rng.uniform(100, 1000, n)
    full = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "x1": x1, "x2": x2, "x3": x3})
    holes = full.copy()
    holes.loc[rng.random(n) < 0.6 / (1 + np.exp(-2 * (x3 - 0.5))), "x1"] = np.nan  # missing at random given x3
    holes.loc[rng.random(n) < 0.2, "x2"] = np.nan
    return full, holes


def test_imputation_recovers_the_full_data_estimate_under_missing_at_random():
    full, holes = _mar_cohort()
    truth = cox(full, "t", "e", ["x1", "x2", "x3"])
    res = cox_multiple_imputation(holes, "t", "e", ["x1", "x2", "x3"], m=10, iterations=5, seed=1)
    for name in ("x1", "x2", "x3"):
        pooled, reference = res.term(name), truth.term(name)
        assert abs(pooled.coef - reference.coef) < 1.5 * pooled.se


def test_imputation_reports_missing_counts_and_complete_cases():
    _, holes = _mar_cohort()
    res = cox_multiple_imputation(holes, "t", "e", ["x1", "x2", "x3"], m=3, iterations=2, seed=1)
    assert res.missing == {c: int(holes[c].isna().sum()) for c in ("x1", "x2", "x3")}
    assert res.n_complete_cases == int(holes[["x1", "x2", "x3"]].notna().all(axis=1).sum())
    assert res.n == len(holes) and res.m == 3
    assert "multiple_imputation_mar" in [c.code for c in res.caveats]


def test_imputed_yes_no_covariates_stay_zero_or_one():
    _, holes = _mar_cohort()
    values = holes[["x1", "x2", "x3"]].to_numpy()
    aux = np.column_stack([holes["e"], nelson_aalen_at_exit(holes["t"].to_numpy(), holes["e"].to_numpy())])
    filled = impute_chained(values, aux, [False, True, False], 3, np.random.default_rng(0))
    assert set(np.unique(filled[:, 1])) <= {0.0, 1.0}
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[~np.isnan(values)], values[~np.isnan(values)])


def test_without_missing_values_every_imputation_is_the_data():
    full, _ = _mar_cohort(n=300)
    res = cox_multiple_imputation(full, "t", "e", ["x1", "x2"], m=2, iterations=1)
    direct = cox(full, "t", "e", ["x1", "x2"])
    assert res.term("x1").coef == pytest.approx(direct.term("x1").coef, rel=1e-9)
    assert res.term("x1").between_variance == pytest.approx(0.0, abs=1e-20)


def test_same_seed_gives_the_same_pooled_estimate():
    _, holes = _mar_cohort(n=400)
    a = cox_multiple_imputation(holes, "t", "e", ["x1", "x2", "x3"], m=3, iterations=2, seed=5)
    b = cox_multiple_imputation(holes, "t", "e", ["x1", "x2", "x3"], m=3, iterations=2, seed=5)
    assert a.term("x1").coef == b.term("x1").coef
