"""Robust (sandwich) variance of a Cox model with Efron ties, as R ``coxph(..., robust = TRUE)``.

R's robust variance is D'D, where the rows of D are the weighted dfbeta residuals
wᵢ·Uᵢ·V (V the model-based variance, Uᵢ the score residual of subject i). lifelines computes
its sandwich from Breslow-type score residuals, which differs from R when death times are tied
(about 3e-4 relative on the registry fixture, whose times are whole days). Here the score
residuals follow the Efron approximation exactly: at a death time with d tied deaths the
cumulative hazard increment is split into d parts k = 0..d−1, with mean covariate
x̄ₖ = (S1 − (k/d)E1)/(S0 − (k/d)E0) and increment hₖ = (weighted deaths / d)/(S0 − (k/d)E0), where
E0, E1 are the sums over the dying; a dying subject carries risk weight (1 − k/d) in part k and
is credited (xᵢ − x̄ₖ)/d. Risk-set sums use prefix sums over distinct death times, so the cost
is O(n log n + deaths × ties).
"""

from __future__ import annotations

import numpy as np

from analytics.stats.cox_diagnostics import _risk_sums


def _efron_parts(
    s0: np.ndarray, s1: np.ndarray, e0: np.ndarray, e1: np.ndarray, d: np.ndarray, dw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per death time: Σₖhₖ, Σₖhₖx̄ₖ, Σₖ(1−k/d)hₖ, Σₖ(1−k/d)hₖx̄ₖ and the mean over k of x̄ₖ."""
    t, p = s1.shape
    a = np.zeros(t)
    b = np.zeros((t, p))
    a_dead = np.zeros(t)
    b_dead = np.zeros((t, p))
    mean_xbar = np.zeros((t, p))
    for tied in np.unique(d):
        rows = d == tied
        frac = np.arange(tied)[:, None] / tied  # k/d, shape (d, 1)
        den = s0[rows][None, :] - frac * e0[rows][None, :]  # (d, rows)
        xbar = (s1[rows][None, :, :] - frac[:, :, None] * e1[rows][None, :, :]) / den[:, :, None]
        h = (dw[rows] / tied)[None, :] / den
        a[rows] = h.sum(axis=0)
        b[rows] = np.einsum("kr,krp->rp", h, xbar)
        a_dead[rows] = ((1 - frac) * h).sum(axis=0)
        b_dead[rows] = np.einsum("kr,krp->rp", (1 - frac) * h, xbar)
        mean_xbar[rows] = xbar.mean(axis=0)
    return a, b, a_dead, b_dead, mean_xbar


def efron_score_residuals(
    x: np.ndarray,
    beta: np.ndarray,
    exit_: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray,
    entry: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """Score residuals Uᵢ (n × p), unweighted, so that Σ wᵢUᵢ is the score (R ``resid(fit, "score")``)."""
    n, p = x.shape
    strata = np.zeros(n, dtype=int) if strata is None else strata
    lp = x @ beta
    risk = np.exp(lp - lp.max())
    out = np.zeros((n, p))
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        xs, rs, ws, ex, ev = x[rows], risk[rows], weights[rows], exit_[rows], event[rows]
        en = entry[rows] if entry is not None else None
        death_times, death_index = np.unique(ex[ev == 1], return_inverse=True)
        if death_times.size == 0:
            continue
        wr = ws * rs
        s0 = _risk_sums(wr, ex, en, death_times)
        s1 = _risk_sums(wr[:, None] * xs, ex, en, death_times)
        dead = ev == 1
        t = death_times.size
        d = np.bincount(death_index, minlength=t)
        dw = np.bincount(death_index, weights=ws[dead], minlength=t)
        e0 = np.bincount(death_index, weights=wr[dead], minlength=t)
        e1 = np.stack([np.bincount(death_index, weights=wr[dead] * xs[dead, j], minlength=t) for j in range(p)], 1)
        a, b, a_dead, b_dead, mean_xbar = _efron_parts(s0, s1, e0, e1, d, dw)
        cum_a = np.concatenate([[0.0], np.cumsum(a)])
        cum_b = np.vstack([np.zeros((1, p)), np.cumsum(b, axis=0)])
        # Death times in (entry, exit]: indices [lo, hi).
        hi = np.searchsorted(death_times, ex, side="right")
        lo = np.searchsorted(death_times, en, side="right") if en is not None else np.zeros(rows.size, dtype=int)
        sum_a = cum_a[hi] - cum_a[lo]
        sum_b = cum_b[hi] - cum_b[lo]
        resid = -rs[:, None] * (xs * sum_a[:, None] - sum_b)
        # A death's own time: replace the at-risk term by the Efron-weighted one and add its credit.
        j = np.searchsorted(death_times, ex[dead])
        own = xs[dead] * a[j][:, None] - b[j]
        own_dead = xs[dead] * a_dead[j][:, None] - b_dead[j]
        resid[dead] += rs[dead][:, None] * (own - own_dead) + (xs[dead] - mean_xbar[j])
        out[rows] = resid
    return out


def robust_variance(
    x: np.ndarray,
    beta: np.ndarray,
    naive_variance: np.ndarray,
    exit_: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray,
    entry: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """R's robust variance D'D with D = diag(w)·U·V."""
    u = efron_score_residuals(x, beta, exit_, event, weights, entry, strata)
    dfbeta = (weights[:, None] * u) @ naive_variance
    covariance: np.ndarray = dfbeta.T @ dfbeta
    return covariance
