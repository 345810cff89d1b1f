"""Infinitesimal-jackknife (IJ) variance of Aalen-Johansen cumulative incidence, in O(n log n).

R's ``survfit`` reports IJ standard errors for multi-state curves and for weighted
Kaplan-Meier curves (``robust = TRUE``): Var = Σᵢ (wᵢ ∂F(t)/∂wᵢ)², the derivative taken with
respect to each subject's case weight. Building the n × T influence matrix costs n·T memory; here
the sum of squares is expanded instead, so every time point costs O(1) after prefix sums.

Notation, at the distinct exit times s_j: weighted numbers at risk n_j, events of any cause d_j,
events of the cause of interest d_kj; S_j = Π(1 − d_l/n_l) (event-free survival), f_j =
S_{j−1}·d_kj/n_j and F(t) = Σ_{s_j ≤ t} f_j (Aalen-Johansen). With a_l = d_l/(n_l(n_l − d_l)),
b_l = 1/(n_l − d_l) and H(u) = Σ_{s_l ≤ u} a_l, subject i (entry e, exit x, weight w) has

* while under observation (e < t < x): ∂F(t) = α(t) − α(e) − H(e)(F(t) − F(e)),
  with α = P − Q, P(t) = Σ f_j H(s_{j−1}), Q(t) = Σ f_j/n_j;
* after its exit (t ≥ x): ∂F(t) = C − κF(t), κ = δ b(x) − (H(x) − H(e)),
  C = α(x) − α(e) − H(e)(F(x) − F(e)) + δ_k S(x−)/n(x) + κF(x);
* before its entry: 0.

For the Kaplan-Meier curve take every event as the cause: F = 1 − S.
"""

from __future__ import annotations

import numpy as np

from analytics.stats._risk import weighted_risk_sums


def _tail_sums(keys: np.ndarray, values: np.ndarray, times: np.ndarray, strictly_after: bool) -> np.ndarray:
    """Σ values over subjects whose key is > t (strictly_after) or >= t, for each t in ``times``."""
    order = np.argsort(keys, kind="stable")
    tail = np.concatenate([np.cumsum(values[order][::-1], axis=0)[::-1], np.zeros((1, *values.shape[1:]))])
    index = np.searchsorted(keys[order], times, side="right") if strictly_after else np.searchsorted(keys[order], times)
    return tail[index]


def aalen_johansen_ij(
    exit_: np.ndarray,
    any_event: np.ndarray,
    cause_event: np.ndarray,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(times, n at risk, events of the cause, S before each time, F, IJ variance of F).

    ``any_event`` and ``cause_event`` are 0/1 per subject (cause_event implies any_event).
    Arrays are given at every distinct exit time.
    """
    w = np.ones(exit_.size) if weights is None else np.asarray(weights, dtype=float)
    times = np.unique(exit_)
    ix = np.searchsorted(times, exit_)
    n_risk = weighted_risk_sums(entry, exit_, w, times)
    d = np.bincount(ix, weights=w * any_event, minlength=times.size)
    dk = np.bincount(ix, weights=w * cause_event, minlength=times.size)
    survivors = n_risk - d
    live = survivors > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(n_risk > 0, d / n_risk, 0.0)
        a = np.where(live, d / (n_risk * survivors), 0.0)
        b = np.where(live, 1.0 / survivors, 0.0)
        inv_n = np.where(n_risk > 0, 1.0 / n_risk, 0.0)
    surv = np.cumprod(1.0 - hazard)
    s_before = np.concatenate([[1.0], surv[:-1]])
    f = s_before * dk * inv_n
    big_f = np.cumsum(f)
    big_h = np.cumsum(a)
    h_before = np.concatenate([[0.0], big_h[:-1]])
    alpha = np.cumsum(f * h_before) - np.cumsum(f * inv_n)

    def at(values: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Prefix value at the last time <= u (0 before the first time)."""
        k = np.searchsorted(times, u, side="right") - 1
        return np.where(k >= 0, values[np.maximum(k, 0)], 0.0)

    if entry is None:
        h_e = f_e = alpha_e = np.zeros(exit_.size)
    else:
        h_e, f_e, alpha_e = at(big_h, entry), at(big_f, entry), at(alpha, entry)
    w2 = w * w
    # Subjects still under observation just after t: u = H(e), β = α(e) − H(e)F(e).
    beta = alpha_e - h_e * f_e
    open_terms = np.stack([w2, w2 * h_e, w2 * h_e**2, w2 * beta, w2 * beta**2, w2 * h_e * beta], axis=1)
    open_sums = _tail_sums(exit_, open_terms, times, strictly_after=True)
    if entry is not None:
        open_sums = open_sums - _tail_sums(entry, open_terms, times, strictly_after=False)
    s0, s_u, s_uu, s_b, s_bb, s_ub = open_sums.T
    var_open = alpha**2 * s0 + big_f**2 * s_uu + s_bb - 2 * alpha * big_f * s_u - 2 * alpha * s_b + 2 * big_f * s_ub
    # Subjects whose exit is at or before t: ∂F = C − κF(t).
    kappa = any_event * b[ix] - (big_h[ix] - h_e)
    c = alpha[ix] - alpha_e - h_e * (big_f[ix] - f_e) + cause_event * s_before[ix] * inv_n[ix] + kappa * big_f[ix]
    closed_terms = np.stack([w2 * c * c, w2 * c * kappa, w2 * kappa * kappa], axis=1)
    closed = np.cumsum(np.stack([np.bincount(ix, weights=col, minlength=times.size) for col in closed_terms.T]), axis=1)
    var_closed = closed[0] - 2 * big_f * closed[1] + big_f**2 * closed[2]
    variance = np.maximum(var_open + var_closed, 0.0)
    return times, n_risk, dk, s_before, big_f, variance
