"""Propensity weights, weighted Kaplan-Meier and weighted Cox with robust SE, against R."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analytics.stats import cox, effective_sample_size, iptw, kaplan_meier

pytestmark = pytest.mark.requirement("STA-04")


def _array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.fixture(scope="module")
def weights(registry, r_result):
    return iptw(registry, "route", r_result("weighted")["propensity"]["covariates"])


def test_propensity_model_matches_r_glm(weights, r_result):
    expected = r_result("weighted")["propensity"]
    np.testing.assert_allclose([t.coef for t in weights.model], expected["coef"], rtol=1e-8)
    np.testing.assert_allclose([t.se for t in weights.model], expected["se"], rtol=1e-8)


def test_stabilised_weights_truncated_at_the_1st_and_99th_percentiles_match_r(weights, registry, r_result):
    np.testing.assert_allclose(weights.weights, registry["w"], rtol=1e-9)
    np.testing.assert_allclose(weights.weight_bounds, r_result("weighted")["propensity"]["bounds"], rtol=1e-9)
    assert weights.truncated_low > 0 and weights.truncated_high > 0


def test_standardised_differences_before_and_after_weighting_match_r(weights, r_result):
    expected = r_result("weighted")["propensity"]
    np.testing.assert_allclose([r.smd_before for r in weights.balance], expected["smd_before"], atol=1e-10)
    np.testing.assert_allclose([r.smd_after for r in weights.balance], expected["smd_after"], atol=1e-10)


def test_weighting_improves_the_worst_imbalance(weights):
    assert weights.max_abs_smd_after < weights.max_abs_smd_before


def test_iptw_reports_kish_effective_sample_size_per_group(weights, registry):
    index = registry["route"].to_numpy() == 1
    w = weights.weights
    assert weights.ess_index == pytest.approx(w[index].sum() ** 2 / np.sum(w[index] ** 2))
    assert weights.ess_other == pytest.approx(effective_sample_size(w[~index]))
    assert weights.ess_index < index.sum()


def test_iptw_refuses_missing_covariates(registry):
    df = registry.assign(age=registry["age"].where(registry.index != 3))
    with pytest.raises(ValueError, match="missing values in age"):
        iptw(df, "route", ["age", "male"])


def test_iptw_serialises_without_the_per_patient_weights(weights):
    out = weights.to_dict()
    json.dumps(out, allow_nan=False)
    assert "_weights" not in out and len(out["balance"]) == 6
    assert "iptw_measured_confounders" in [c["code"] for c in out["caveats"]]


@pytest.mark.parametrize(
    ("key", "subset", "entry"),
    [("km_route1", "route == 1", None), ("km_route0", "route == 0", None), ("km_entry", None, "entry")],
)
def test_weighted_kaplan_meier_matches_r_robust_survfit(registry, r_result, key, subset, entry):
    expected = r_result("weighted")[key]
    df = registry.query(subset) if subset else registry
    km = kaplan_meier(df, "time", "death", entry_col=entry, weights_col="w")
    tl = km.timeline
    np.testing.assert_allclose(tl["time"], expected["time"])
    np.testing.assert_allclose(tl["n_at_risk"], expected["n_risk"], rtol=1e-10)
    np.testing.assert_allclose(tl["survival"], expected["surv"], atol=1e-12)
    lower, upper = _array(expected["lower"]), _array(expected["upper"])
    shown = ~np.isnan(lower)
    np.testing.assert_allclose(tl["ci_lower"][shown], lower[shown], atol=1e-10)
    np.testing.assert_allclose(tl["ci_upper"][shown], upper[shown], atol=1e-10)
    assert km.weighted and km.variance == "infinitesimal jackknife"


def test_weighted_kaplan_meier_counts_patients_not_weights(registry):
    km = kaplan_meier(registry, "time", "death", weights_col="w")
    assert km.n == len(registry) and km.events == int(registry["death"].sum())


def test_weighted_kaplan_meier_refuses_non_positive_weights(registry):
    with pytest.raises(ValueError, match="finite and > 0"):
        kaplan_meier(registry.assign(w=0.0), "time", "death", weights_col="w")


@pytest.mark.parametrize(
    ("key", "covariates", "entry"),
    [
        ("cox_route", ["route"], None),
        ("cox_adjusted", ["route", "age", "bulbar", "dfs"], None),
        ("cox_entry", ["route"], "entry"),
    ],
)
def test_weighted_cox_robust_se_matches_r_coxph_robust(registry, r_result, key, covariates, entry):
    expected = r_result("weighted")[key]
    fit = cox(registry, "time", "death", covariates, entry_col=entry, weights_col="w", robust=True)
    np.testing.assert_allclose([t.coef for t in fit.terms], expected["coef"], rtol=1e-6)
    np.testing.assert_allclose([t.se for t in fit.terms], expected["robust_se"], rtol=1e-6)
    assert fit.robust and fit.ph_test is None
