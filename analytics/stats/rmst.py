"""Restricted mean survival time (RMST) up to a horizon τ, and the difference between two RMSTs.

RMST(τ) = ∫₀^τ S(t) dt, the area under the Kaplan-Meier curve (Royston & Parmar, BMC Med Res
Methodol 2013;13:152). Its variance is Σ over event times tⱼ ≤ τ of Aⱼ² dⱼ / (nⱼ (nⱼ − dⱼ)),
where Aⱼ is the area under the curve from tⱼ to τ: the formula R's ``print(survfit(...),
rmean = τ)`` uses, and not lifelines' ``restricted_mean_survival_time(return_variance=True)``,
which is the variance of min(T, τ) in the population, not of the estimate.

When the last observed time is before τ, R (and this module) carries the last survival value
forward to τ; the result then says so (``follow_up_reaches_tau`` False) and carries a caveat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import caveats as cv
from analytics.stats._risk import _z, km_steps
from analytics.stats._validation import survival_arrays
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin


@dataclass(frozen=True, eq=False)
class RMSTResult(ResultMixin):
    """RMST up to ``tau`` with its standard error and normal CI.

    ``events`` counts events at or before τ. ``se`` is None (NaN) when the estimate has no
    sampling variance to report (a curve given as points, without patients).
    """

    label: str
    tau: float
    rmst: float
    se: float
    ci_lower: float
    ci_upper: float
    n: int
    events: int
    confidence_level: float
    follow_up_reaches_tau: bool
    caveats: tuple[Caveat, ...] = ()


@dataclass(frozen=True, eq=False)
class RMSTDifference(ResultMixin):
    """RMST of ``first`` minus RMST of ``second`` (independent samples): SE = √(se₁² + se₂²)."""

    first: str
    second: str
    tau: float
    difference: float
    se: float
    ci_lower: float
    ci_upper: float
    z: float
    p: float
    n: int
    events: int
    confidence_level: float
    caveats: tuple[Caveat, ...] = ()


def rmst_from_steps(
    times: np.ndarray, n_risk: np.ndarray, d: np.ndarray, surv: np.ndarray, tau: float
) -> tuple[float, float]:
    """(RMST, variance) from a KM curve given at its distinct times (R ``survmean``).

    The curve is a right-continuous step function starting at S = 1 at time 0.
    """
    keep = times <= tau
    t, s = times[keep], surv[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n_risk[keep] - d[keep] > 0, d[keep] / (n_risk[keep] * (n_risk[keep] - d[keep])), 0.0)
    grid = np.concatenate([[0.0], t, [tau]])
    height = np.concatenate([[1.0], s])  # S on [grid[k], grid[k+1])
    rectangles = np.diff(grid) * height
    # Area after each time tⱼ up to τ: the rectangles to the right of tⱼ.
    after = np.cumsum(rectangles[::-1])[::-1][1:]
    return float(rectangles.sum()), float(np.sum(after**2 * hh))


def rmst(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    tau: float,
    entry_col: str | None = None,
    label: str = "all",
    alpha: float = 0.05,
) -> RMSTResult:
    """RMST(τ) of a cohort, as R ``print(survfit(Surv([entry,] exit, event) ~ 1), rmean = τ)``."""
    if not tau > 0:
        raise ValueError("tau must be > 0")
    exit_, event, entry = survival_arrays(df, duration_col, event_col, entry_col)
    times, n_risk, d, surv = km_steps(exit_, event, entry)
    estimate, variance = rmst_from_steps(times, n_risk, d, surv, tau)
    se = math.sqrt(variance)
    z = _z(alpha)
    reaches = bool(exit_.max() >= tau)
    result = RMSTResult(
        label=label,
        tau=float(tau),
        rmst=estimate,
        se=se,
        ci_lower=estimate - z * se,
        ci_upper=estimate + z * se,
        n=int(exit_.size),
        events=int(event[exit_ <= tau].sum()),
        confidence_level=1 - alpha,
        follow_up_reaches_tau=reaches,
    )
    if not reaches:
        result = result.with_caveats(cv.RMST_EXTRAPOLATED)
    if entry is not None:
        result = result.with_caveats(cv.LEFT_TRUNCATION)
    return result


def rmst_difference(first: RMSTResult, second: RMSTResult, alpha: float = 0.05) -> RMSTDifference:
    """Difference of two independent RMSTs at the same τ, with a normal CI and two-sided p."""
    if first.tau != second.tau:
        raise ValueError(f"RMSTs at different horizons ({first.tau:g} and {second.tau:g}) cannot be compared")
    diff = first.rmst - second.rmst
    se = math.sqrt(first.se**2 + second.se**2)
    z = _z(alpha)
    zstat = diff / se if se > 0 else math.nan
    caveats = tuple({c.code: c for c in (*first.caveats, *second.caveats)}.values())
    return RMSTDifference(
        first=first.label,
        second=second.label,
        tau=first.tau,
        difference=diff,
        se=se,
        ci_lower=diff - z * se,
        ci_upper=diff + z * se,
        z=zstat,
        p=float(2 * stats.norm.sf(abs(zstat))) if se > 0 else math.nan,
        n=first.n + second.n,
        events=first.events + second.events,
        confidence_level=1 - alpha,
        caveats=caveats,
    )
