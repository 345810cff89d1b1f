"""Kaplan-Meier survival with Greenwood log(-log) intervals, as R ``survfit``.

Conventions (shared by the survival modules):

* Times are in whatever unit the caller uses; nothing is converted.
* Risk sets follow the counting-process rule of R's ``Surv(start, stop)``: a
  patient is at risk at time t when ``entry < t <= exit``. Without an entry
  column everyone is at risk from the origin.
* Confidence intervals default to 95% (``alpha=0.05``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analytics.stats import caveats as cv
from analytics.stats._influence import aalen_johansen_ij
from analytics.stats._risk import _at_risk, _risk_counts, _z
from analytics.stats._validation import survival_arrays
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin


@dataclass(frozen=True, eq=False)
class SurvivalAtTime:
    """KM survival read off at a chosen time (e.g. 365 or 640 days).

    ``estimable`` is False beyond the last observed time, where KM says
    nothing (unless survival has already reached 0); survival and CI are
    then NaN (None in JSON).
    """

    time: float
    survival: float
    ci_lower: float
    ci_upper: float
    n_at_risk: int
    estimable: bool


@dataclass(frozen=True, eq=False)
class KMResult(ResultMixin):
    """Kaplan-Meier estimate with Greenwood log(-log) 95% CIs (R conf.type="log-log").

    ``timeline`` has one row per distinct exit time with columns time,
    n_at_risk, events, censored, survival, ci_lower, ci_upper. CIs are
    (1, 1) while survival is 1 (zero variance; R reports NA there) and NaN
    once survival reaches 0.
    """

    label: str
    n: int
    events: int
    timeline: pd.DataFrame
    median: float
    median_ci_lower: float
    median_ci_upper: float
    at_times: tuple[SurvivalAtTime, ...]
    risk_table: tuple[tuple[float, int], ...]
    confidence_level: float
    left_truncated: bool
    weighted: bool = False
    variance: str = "greenwood"
    caveats: tuple[Caveat, ...] = ()
    _entry: np.ndarray | None = field(default=None, repr=False)
    _exit: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out.pop("_entry", None)
        out.pop("_exit", None)
        return out

    def survival_at(self, times: Sequence[float]) -> tuple[SurvivalAtTime, ...]:
        """Right-continuous step-function lookup of survival and CI at ``times``."""
        tl = self.timeline
        t_arr = tl["time"].to_numpy()
        last = float(t_arr[-1]) if len(t_arr) else 0.0
        out = []
        for t in times:
            t = float(t)
            n_risk = _at_risk(self._entry, self._exit, t) if self._exit is not None else 0
            if t > last:
                if len(t_arr) and tl["survival"].iloc[-1] == 0:  # everyone has died
                    out.append(SurvivalAtTime(t, 0.0, math.nan, math.nan, n_risk, True))
                else:
                    out.append(SurvivalAtTime(t, math.nan, math.nan, math.nan, n_risk, False))
                continue
            idx = int(np.searchsorted(t_arr, t, side="right")) - 1
            if idx < 0:
                out.append(SurvivalAtTime(t, 1.0, 1.0, 1.0, n_risk, True))
                continue
            row = tl.iloc[idx]
            out.append(
                SurvivalAtTime(
                    t,
                    float(row["survival"]),
                    float(row["ci_lower"]),
                    float(row["ci_upper"]),
                    n_risk,
                    True,
                )
            )
        return tuple(out)

    def n_at_risk_at(self, times: Sequence[float]) -> tuple[tuple[float, int], ...]:
        """Numbers at risk (entry < t <= exit) for a risk table under a plot."""
        if self._exit is None:
            raise ValueError("result was built without the raw data")
        return tuple((float(t), _at_risk(self._entry, self._exit, float(t))) for t in times)


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """Port of survival:::findq, R's rule for reading a quantile off a curve.

    ``y`` is the cumulative distribution 1 - S. The quantile is the first
    time where y >= p; if y equals p (within tol) on a flat stretch, the
    midpoint of that stretch is returned, as R does.
    """
    finite = y[~np.isnan(y)]
    if finite.size == 0 or finite.max() < p:
        return math.nan
    xmax = x[-1]
    _, first = np.unique(y, return_index=True)  # NaN sorts last, one kept
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]

    def first_at_least(vals: np.ndarray) -> int | None:
        hits = np.nonzero(vals >= p)[0]
        return int(hits[0]) if hits.size else None

    i1 = first_at_least(y + tol)
    i2 = first_at_least(y - tol)
    if abs(p - y[-1]) < tol and i1 is not None:
        return float((x[i1] + xmax) / 2)
    if i1 is None or i2 is None:
        return math.nan
    return float((x[i1] + x[i2]) / 2)


def kaplan_meier(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    entry_col: str | None = None,
    label: str = "all",
    times: Sequence[float] = (),
    risk_times: Sequence[float] = (),
    alpha: float = 0.05,
    weights_col: str | None = None,
) -> KMResult:
    """Kaplan-Meier survival with log(-log) confidence intervals.

    Agrees with R ``survfit(Surv([entry,] exit, event) ~ 1, conf.type="log-log")``
    including the median and its CI (R's quantile rule). ``entry_col`` gives
    left truncation: patients join the risk set only after entry.
    ``times`` lists times at which survival is reported (e.g. 365, 640 days);
    ``risk_times`` lists times for the numbers-at-risk table.

    Unweighted, the variance is Greenwood's. With ``weights_col`` (e.g. inverse probability of
    treatment weights) the counts are weighted and the variance is the infinitesimal jackknife,
    as R ``survfit(..., weights = w, robust = TRUE)``; Greenwood's formula would treat the
    weights as frequencies. The timeline's n_at_risk and events are then weighted sums, while
    ``n``, ``events`` and the risk table count patients.
    """
    exit_, event, entry = survival_arrays(df, duration_col, event_col, entry_col)
    weights = _weights(df, weights_col)
    z = _z(alpha)
    t_unique = np.unique(exit_)
    idx = np.searchsorted(t_unique, exit_)
    c = np.bincount(idx, weights=1 - event, minlength=t_unique.size)
    if weights is None:
        n_risk = _risk_counts(entry, exit_, t_unique).astype(float)
        d = np.bincount(idx, weights=event, minlength=t_unique.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1.0 - d / n_risk)
            se = np.sqrt(np.cumsum(np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)))
    else:
        ev = event.astype(float)
        _, n_risk, d, _, cum_inc, var = aalen_johansen_ij(exit_, ev, ev, entry, weights)
        surv = 1.0 - cum_inc
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(var) / surv  # on the log scale, as the log(-log) interval needs
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(surv)
        core = np.log(-log_s)
        half = z * se / log_s  # negative, as in R's survfit_confint
        lower = np.exp(-np.exp(core - half))
        upper = np.exp(-np.exp(core + half))
    at_one = surv >= 1.0
    lower[at_one] = 1.0
    upper[at_one] = 1.0
    at_zero = surv <= 0.0
    lower[at_zero] = math.nan
    upper[at_zero] = math.nan
    surv[at_zero] = 0.0

    timeline = pd.DataFrame(
        {
            "time": t_unique,
            "n_at_risk": n_risk if weights is not None else n_risk.astype(int),
            "events": d if weights is not None else d.astype(int),
            "censored": c.astype(int),
            "survival": surv,
            "ci_lower": lower,
            "ci_upper": upper,
        }
    )
    tol = math.sqrt(np.finfo(float).eps)
    x = np.concatenate([[0.0], t_unique])
    median = _findq(x, np.concatenate([[0.0], 1 - surv]), 0.5, tol)
    med_lo = _findq(x, np.concatenate([[0.0], 1 - lower]), 0.5, tol)
    med_hi = _findq(x, np.concatenate([[0.0], 1 - upper]), 0.5, tol)

    result = KMResult(
        label=label,
        n=int(exit_.size),
        events=int(event.sum()),
        timeline=timeline,
        median=median,
        median_ci_lower=med_lo,
        median_ci_upper=med_hi,
        at_times=(),
        risk_table=(),
        confidence_level=1 - alpha,
        left_truncated=entry is not None,
        weighted=weights is not None,
        variance="greenwood" if weights is None else "infinitesimal jackknife",
        _entry=entry,
        _exit=exit_,
    )
    result = replace(
        result,
        at_times=result.survival_at(times),
        risk_table=result.n_at_risk_at(risk_times),
    )
    if entry is not None:
        result = result.with_caveats(cv.LEFT_TRUNCATION)
    return result


def _weights(df: pd.DataFrame, weights_col: str | None) -> np.ndarray | None:
    """Case weights: present, finite and positive (a zero weight is a row to drop, not to keep)."""
    if weights_col is None:
        return None
    if weights_col not in df.columns:
        raise KeyError(f"column(s) not in data frame: {weights_col}")
    w: np.ndarray = df[weights_col].to_numpy(dtype=float)
    if not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError(f"{weights_col} must be finite and > 0 for every row")
    return w
