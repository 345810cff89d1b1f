"""Risk-set counting and normal quantiles shared by the survival estimators.

Conventions (shared by the survival modules):

* Times are in whatever unit the caller uses; nothing is converted.
* Risk sets follow the counting-process rule of R's ``Surv(start, stop)``: a
  patient is at risk at time t when ``entry < t <= exit``. Without an entry
  column everyone is at risk from the origin.
* Confidence intervals default to 95% (``alpha=0.05``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    return float(stats.norm.ppf(1 - alpha / 2))


def _at_risk(entry: np.ndarray | None, exit_: np.ndarray, t: float) -> int:
    """Number at risk at ``t``: entry < t <= exit.

    At t <= 0 a patient whose entry is at the origin counts as at risk, so a
    risk table starting at 0 shows everyone observed from the start.
    """
    if entry is None:
        return int(np.sum(exit_ >= t))
    entered = entry < t if t > 0 else entry <= t
    return int(np.sum(entered & (exit_ >= t)))


def _risk_counts(entry: np.ndarray | None, exit_: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Vectorised entry < t <= exit counts at positive ``times`` (event times)."""
    n = exit_.size
    counts = n - np.searchsorted(np.sort(exit_), times, side="left")
    if entry is not None:
        # entry < exit always, so everyone with entry >= t also has exit >= t
        counts = counts - (n - np.searchsorted(np.sort(entry), times, side="left"))
    return counts


def weighted_risk_sums(
    entry: np.ndarray | None, exit_: np.ndarray, weights: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """Σ weights over subjects at risk (entry < t <= exit) at each of ``times``, by prefix sums."""
    order = np.argsort(exit_, kind="stable")
    tail = np.concatenate([np.cumsum(weights[order][::-1])[::-1], [0.0]])
    total = tail[np.searchsorted(exit_[order], times, side="left")]
    if entry is not None:
        order_in = np.argsort(entry, kind="stable")
        tail_in = np.concatenate([np.cumsum(weights[order_in][::-1])[::-1], [0.0]])
        total = total - tail_in[np.searchsorted(entry[order_in], times, side="left")]
    return total


def km_steps(
    exit_: np.ndarray,
    event: np.ndarray,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier at every distinct exit time: (times, n at risk, events, survival).

    With ``weights`` the counts are weighted sums (R ``survfit(weights = )``). Survival is the
    product of (1 - d/n); where n = 0 (a gap in a left-truncated risk set) nothing happens.
    """
    times = np.unique(exit_)
    idx = np.searchsorted(times, exit_)
    w = np.ones(exit_.size) if weights is None else np.asarray(weights, dtype=float)
    n_risk = weighted_risk_sums(entry, exit_, w, times)
    d = np.bincount(idx, weights=w * event, minlength=times.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n_risk > 0, 1.0 - d / n_risk, 1.0)
    return times, n_risk, d, np.cumprod(factor)
