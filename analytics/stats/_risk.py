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
