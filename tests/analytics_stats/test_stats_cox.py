"""Cox model: agreement with R coxph (Efron ties) and the PH test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.stats import concordance_index, cox

pytestmark = pytest.mark.requirement("STA-01")

VETERAN_COVS = ["trt", "karno", "diagtime", "age", "prior", "smallcell", "adeno", "large"]
R_CASES = {
    "lung": ("lung", "time", ["age", "sex", "ph_ecog"], None),
    "veteran": ("veteran", "time", VETERAN_COVS, None),
    "synthetic_delayed_entry": ("synthetic", "exit", ["x1", "x2"], "entry"),
}


def _fit(request: pytest.FixtureRequest, key: str, **kwargs):
    dataset, duration, covs, entry = R_CASES[key]
    return cox(request.getfixturevalue(dataset), duration, "event", covs, entry_col=entry, **kwargs)


@pytest.mark.parametrize("key", list(R_CASES))
def test_cox_coefficients_and_standard_errors_match_r_coxph(request, r_result, key):
    r = r_result("cox")[key]
    res = _fit(request, key)
    assert [t.variable for t in res.terms] == r["variables"]
    np.testing.assert_allclose([t.coef for t in res.terms], r["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose([t.se for t in res.terms], r["se"], rtol=1e-6)


@pytest.mark.parametrize("key", list(R_CASES))
def test_cox_hazard_ratios_ci_and_p_values_match_r_coxph(request, r_result, key):
    r = r_result("cox")[key]
    res = _fit(request, key)
    np.testing.assert_allclose([t.hr for t in res.terms], r["hr"], rtol=1e-6)
    np.testing.assert_allclose([t.hr_ci_lower for t in res.terms], r["hr_lower"], rtol=1e-6)
    np.testing.assert_allclose([t.hr_ci_upper for t in res.terms], r["hr_upper"], rtol=1e-6)
    np.testing.assert_allclose([t.p for t in res.terms], r["p"], rtol=1e-5)


@pytest.mark.parametrize("key", list(R_CASES))
def test_cox_counts_log_likelihood_and_concordance_match_r(request, r_result, key):
    r = r_result("cox")[key]
    res = _fit(request, key)
    assert (res.n, res.events) == (r["n"], r["events"])
    assert res.log_likelihood == pytest.approx(r["loglik"][1], rel=1e-9)
    assert res.lr_chi2 == pytest.approx(2 * (r["loglik"][1] - r["loglik"][0]), rel=1e-6)
    assert res.concordance == pytest.approx(r["concordance"], abs=1e-9)
    assert res.ties == r["ties"] == "efron"


@pytest.mark.parametrize("key", list(R_CASES))
@pytest.mark.parametrize("transform", ["rank", "km", "identity"])
def test_cox_ph_test_matches_grambsch_therneau_computed_in_r(request, r_result, key, transform):
    # PH statistics depend on the fitted coefficients, so allow 1e-5.
    r = r_result("cox")[key][f"zph_gt1994_{transform}"]
    ph = _fit(request, key, ph_transform=transform).ph_test
    assert ph is not None and ph.transform == transform
    assert [row.variable for row in ph.rows] == r["variables"]
    np.testing.assert_allclose([row.chi2 for row in ph.rows], r["chisq"], rtol=1e-5, atol=1e-9)
    assert ph.global_chi2 == pytest.approx(r["global_chisq"], rel=1e-5)
    assert ph.global_df == r["global_df"]


def test_cox_ph_test_agrees_with_lifelines_when_no_deaths_are_tied():
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    rng = np.random.default_rng(7)
    n = 150
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.integers(0, 2, n).astype(float)})
    df["t"] = rng.exponential(np.exp(-0.5 * df["x"]) * 10) + np.arange(n) * 1e-6
    df["e"] = (rng.uniform(size=n) < 0.8).astype(int)
    ours = cox(df, "t", "e", ["x", "z"]).ph_test
    cph = CoxPHFitter().fit(df, "t", "e")
    theirs = proportional_hazard_test(cph, df, time_transform="rank").summary["test_statistic"]
    assert ours is not None
    for row in ours.rows:
        assert row.chi2 == pytest.approx(theirs[row.variable], rel=1e-4)


def test_cox_drops_rows_with_missing_covariates_and_counts_them(lung):
    res = cox(lung, "time", "event", ["age", "sex", "ph_ecog"])
    assert res.n_excluded_missing == int(lung["ph_ecog"].isna().sum()) == 1
    assert res.n == len(lung) - 1


def test_cox_rejects_non_numeric_covariates(veteran):
    with pytest.raises(ValueError, match="dummy-code"):
        cox(veteran, "time", "event", ["celltype"])


def test_cox_without_covariates_is_refused(lung):
    with pytest.raises(ValueError, match="at least one covariate"):
        cox(lung, "time", "event", [])


def test_cox_hazard_ratio_is_exp_coef_with_symmetric_log_ci(lung):
    term = cox(lung, "time", "event", ["sex"]).term("sex")
    assert term.hr == pytest.approx(np.exp(term.coef))
    assert np.log(term.hr_ci_upper) - term.coef == pytest.approx(term.coef - np.log(term.hr_ci_lower))
    assert np.log(term.hr_ci_upper) - term.coef == pytest.approx(1.959964 * term.se, rel=1e-6)


def test_cox_stratified_fit_reports_its_strata_and_a_ph_test(veteran):
    res = cox(veteran, "time", "event", ["karno", "age"], strata=["trt"])
    assert res.strata == ("trt",)
    assert res.ph_test is not None


def test_cox_weighted_fit_skips_the_unweighted_ph_test(lung):
    res = cox(lung.assign(w=1.0), "time", "event", ["age"], weights_col="w", robust=True)
    assert res.ph_test is None
    assert res.robust


def test_cox_results_carry_observational_caveats(synthetic):
    codes = {c.code for c in cox(synthetic, "exit", "event", ["x1"], entry_col="entry").caveats}
    assert {"real_world_non_randomised", "confounding", "immortal_time_bias", "left_truncation"} <= codes


def test_cox_to_dict_is_json_serialisable(lung):
    out = cox(lung, "time", "event", ["age", "sex"]).to_dict()
    json.dumps(out, allow_nan=False)
    assert {"n", "events", "terms", "ph_test", "concordance"} <= out.keys()
    assert {"hr", "hr_ci_lower", "hr_ci_upper", "p"} <= out["terms"][0].keys()


def _harrell_c_by_pairs(lp, exit_, event, entry, strata) -> float:
    """Harrell's C pair by pair: i died, j is at risk at i's death (entry < t <= exit, same
    stratum) and did not die then; concordant when i's score is higher, ties count 1/2."""
    num = den = 0.0
    for i in range(len(lp)):
        if not event[i]:
            continue
        for j in range(len(lp)):
            if j == i or strata[j] != strata[i] or exit_[j] < exit_[i] or entry[j] >= exit_[i]:
                continue
            if exit_[j] == exit_[i] and event[j]:
                continue
            den += 1
            num += 1.0 if lp[i] > lp[j] else 0.5 if lp[i] == lp[j] else 0.0
    return num / den if den else float("nan")


concordance_cases = st.lists(
    st.tuples(st.integers(0, 8), st.integers(1, 8), st.booleans(), st.integers(0, 4), st.integers(0, 1)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(concordance_cases, st.booleans(), st.booleans())
def test_concordance_counts_every_comparable_pair_once_with_ties_as_half(rows, delayed, stratified):
    entry = np.array([r[0] if delayed else 0 for r in rows], dtype=float)
    exit_ = np.array([(r[0] if delayed else 0) + r[1] for r in rows], dtype=float)
    event = np.array([int(r[2]) for r in rows])
    lp = np.array([r[3] * 0.5 for r in rows])
    strata = np.array([r[4] if stratified else 0 for r in rows])
    expected = _harrell_c_by_pairs(lp, exit_, event, entry, strata)
    got = concordance_index(lp, exit_, event, entry if delayed else None, strata)
    assert got == pytest.approx(expected, abs=1e-12, nan_ok=True)
