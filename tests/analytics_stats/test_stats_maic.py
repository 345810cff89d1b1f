"""Unanchored MAIC weights, checked against direct solutions of the moment equations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from analytics.stats import maic_weights


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    rng = np.random.default_rng(20251113)
    n = 400
    return pd.DataFrame(
        {
            "age": rng.normal(63, 9, n),
            "male": (rng.random(n) < 0.55).astype(float),
            "bulbar": (rng.random(n) < 0.3).astype(float),
            "svc": rng.normal(85, 12, n),
        }
    )


def test_one_binary_covariate_has_the_closed_form_logit_shift(cohort):
    p = cohort["male"].mean()
    res = maic_weights(cohort, {"male": 0.62})
    assert res.coefficients[0] == pytest.approx(special.logit(0.62) - special.logit(p), rel=1e-8)


def test_weights_solve_the_moment_equations_like_a_root_finder(cohort):
    targets = {"age": 60.0, "male": 0.62, "bulbar": 0.25, "svc": 88.0}
    z = cohort[list(targets)].to_numpy() - np.array(list(targets.values()))
    direct = optimize.root(lambda a: z.T @ np.exp(z @ a) / len(z), np.zeros(4), method="hybr", tol=1e-14).x
    res = maic_weights(cohort, targets)
    np.testing.assert_allclose(res.coefficients, direct, rtol=1e-6, atol=1e-10)


def test_weighted_means_equal_the_targets(cohort):
    targets = {"age": 60.0, "male": 0.62}
    res = maic_weights(cohort, targets)
    for name, target in targets.items():
        assert np.average(cohort[name], weights=res.weights) == pytest.approx(target, abs=1e-8)
    assert res.max_abs_difference < 1e-8


def test_a_published_sd_is_matched_as_well_as_the_mean(cohort):
    res = maic_weights(cohort, {"age": 60.0}, {"age": 7.0})
    w = res.weights
    assert np.sqrt(np.average((cohort["age"] - 60.0) ** 2, weights=w)) == pytest.approx(7.0, abs=1e-7)


def test_targets_equal_to_the_cohort_means_give_equal_weights(cohort):
    res = maic_weights(cohort, {"age": cohort["age"].mean(), "male": cohort["male"].mean()})
    np.testing.assert_allclose(res.weights, 1.0, atol=1e-8)
    assert res.ess == pytest.approx(len(cohort))


def test_effective_sample_size_shrinks_as_targets_move_away(cohort):
    near = maic_weights(cohort, {"age": 62.0}).ess
    far = maic_weights(cohort, {"age": 56.0}).ess
    assert far < near < len(cohort)


def test_a_target_outside_the_data_has_no_solution(cohort):
    with pytest.raises(ValueError, match="outside the range"):
        maic_weights(cohort, {"male": 1.2})


def test_no_targets_means_no_maic(cohort):
    with pytest.raises(ValueError, match="no targets"):
        maic_weights(cohort, {})


def test_maic_always_carries_the_unanchored_caveat_and_serialises(cohort):
    out = maic_weights(cohort, {"age": 60.0}).to_dict()
    json.dumps(out, allow_nan=False)
    assert "maic_unanchored" in [c["code"] for c in out["caveats"]]
    assert "_weights" not in out
