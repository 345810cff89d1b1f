"""Reconstruct pseudo individual patient data from a published KM curve.

Port of the algorithm of Guyot, Ades, Ouwens & Welton (BMC Med Res Methodol
2012;12:9), following the authors' published R code step by step, because
no maintained Python implementation exists. Inputs are digitised (t, S)
points and the numbers-at-risk table printed under the figure; within each
risk-table interval censoring is assumed uniform, and the number censored
is iterated until the reconstructed number at risk matches the table.
The output feeds ``kaplan_meier`` / ``BenchmarkCurve.from_km`` to build a
benchmark such as a MIROCALS arm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.stats import caveats as cv
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin

_MAX_ITER = 1000


@dataclass(frozen=True, eq=False)
class GuyotResult(ResultMixin):
    """Reconstructed pseudo-IPD.

    ``ipd`` has columns time, event (1 = event, 0 = censored). ``intervals``
    gives, per digitised point, the reconstructed n_at_risk, events and
    censored. There is no estimate here, so no CI fields: fit
    ``kaplan_meier`` to ``ipd`` for those.
    """

    ipd: pd.DataFrame
    intervals: pd.DataFrame
    n: int
    events: int
    n_censored: int
    total_events_target: int | None
    caveats: tuple[Caveat, ...] = ()


def _clean_points(times: Sequence[float], survival: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Sort, add (0, 1), force S non-increasing and merge repeated times.

    Digitised curves wobble upwards by a pixel and show vertical drops as
    two points at one time; the algorithm needs a clean monotone curve.
    """
    t = np.asarray(times, dtype=float)
    s = np.asarray(survival, dtype=float)
    if t.size != s.size or t.size == 0:
        raise ValueError("times and survival must be non-empty and of equal length")
    if np.isnan(t).any() or np.isnan(s).any() or (t < 0).any():
        raise ValueError("digitised points must be finite with t >= 0")
    order = np.lexsort((-s, t))
    t, s = t[order], np.clip(s[order], 0.0, 1.0)
    if t[0] > 0:
        t, s = np.concatenate([[0.0], t]), np.concatenate([[1.0], s])
    s[0] = 1.0  # a KM curve starts at 1; a lower first point is digitising error
    s = np.minimum.accumulate(s)
    keep = np.concatenate([t[1:] != t[:-1], [True]])  # last (lowest) S per time
    return t[keep], s[keep]


def _distribute(
    cen: np.ndarray,
    t_s: np.ndarray,
    n_censor: int,
    first: int,
    last: int,
    t_lo: float,
    t_hi: float,
) -> None:
    """Spread n_censor times evenly over (t_lo, t_hi), counting per bin.

    Bins are (t_s[k], t_s[k+1]] for k in first..last-1 (R ``hist`` with
    right-closed bins); counts go to cen[first:last].
    """
    cen[first:last] = 0
    if n_censor <= 0:
        return
    j = np.arange(1, n_censor + 1)
    cen_t = t_lo + j * (t_hi - t_lo) / (n_censor + 1)
    breaks = t_s[first : last + 1]
    nbins = last - first
    idx = np.clip(np.searchsorted(breaks, cen_t, side="left") - 1, 0, nbins - 1)
    cen[first:last] = np.bincount(idx, minlength=nbins)


def _risk_table(risk_times: Sequence[float], n_at_risk: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The published risk table as arrays, checked: starts at 0, times increase, n never increases."""
    t_risk = np.asarray(risk_times, dtype=float)
    n_risk = np.asarray(n_at_risk, dtype=float).copy()
    if t_risk.size != n_risk.size or t_risk.size == 0:
        raise ValueError("risk_times and n_at_risk must be non-empty and of equal length")
    if np.any(np.diff(t_risk) <= 0) or np.any(np.diff(n_risk) > 0) or n_risk[0] <= 0:
        raise ValueError("risk times must increase and numbers at risk must not increase")
    if t_risk[0] != 0:
        raise ValueError("the risk table must start at time 0")
    return t_risk, n_risk


def _pseudo_ipd(t_s: np.ndarray, d: np.ndarray, cen: np.ndarray, n_total: int) -> pd.DataFrame:
    """Events at digitised times, censorings at interval midpoints, the rest censored at the end."""
    mid = (t_s[:-1] + t_s[1:]) / 2
    times = np.concatenate([np.repeat(t_s, d), np.repeat(mid, cen[:-1])])
    events = np.concatenate([np.ones(int(d.sum()), dtype=int), np.zeros(int(cen[:-1].sum()), dtype=int)])
    remaining = n_total - times.size
    if remaining < 0:
        raise ValueError("reconstruction produced more patients than the risk table allows")
    times = np.concatenate([times, np.full(remaining, t_s[-1])])
    events = np.concatenate([events, np.zeros(remaining, dtype=int)])
    return pd.DataFrame({"time": times, "event": events}).sort_values(
        ["time", "event"], ascending=[True, False], ignore_index=True
    )


class _Reconstruction:
    """The state of the algorithm (arrays indexed by digitised point) and its steps, as in the
    authors' R code: ``d`` events, ``cen`` censorings, ``n_hat`` numbers at risk, ``km_hat`` the
    reconstructed KM, ``last_i`` the last point with an event before each interval."""

    def __init__(self, t_s: np.ndarray, s: np.ndarray, lower: np.ndarray, n_risk: np.ndarray) -> None:
        self.t_s, self.s, self.lower, self.n_risk = t_s, s, lower, n_risk
        n_t = t_s.size
        self.upper = np.concatenate([lower[1:] - 1, [n_t - 1]])
        self.n_censor = np.zeros(lower.size, dtype=int)
        self.n_hat = np.full(n_t + 1, n_risk[0] + 1)
        self.cen = np.zeros(n_t, dtype=int)
        self.d = np.zeros(n_t, dtype=int)
        self.km_hat = np.ones(n_t)
        self.last_i = np.zeros(lower.size, dtype=int)

    def step(self, k: int, last: int) -> tuple[int, float]:
        """Events at point k so the reconstructed KM matches the digitised S."""
        km, n = self.km_hat[last], self.n_hat[k]
        if km == 0 or n <= 0:
            return 0, km
        dk = max(0, min(int(np.rint(n * (1 - self.s[k] / km))), int(n)))
        return dk, km * (1 - dk / n)

    def _sweep(self, i: int, lo: int, up: int) -> int:
        """Events and numbers at risk over points lo..up of interval i; returns the last event point."""
        last: int = self.last_i[i]
        for k in range(lo, up + 1):
            if i == 0 and k == lo:
                self.d[k], self.km_hat[k] = 0, 1.0
            else:
                self.d[k], self.km_hat[k] = self.step(k, last)
            self.n_hat[k + 1] = self.n_hat[k] - self.d[k] - self.cen[k]
            if self.d[k] != 0:
                last = k
        return last

    def fit_interval(self, i: int) -> None:
        """Intervals before the last: iterate the censoring until n_hat meets the risk table."""
        lo, up, nxt = self.lower[i], self.upper[i], self.lower[i + 1]
        target = self.n_risk[i + 1]
        s = self.s
        self.n_censor[i] = int(np.rint(self.n_risk[i] * s[nxt] / s[lo] - target)) if s[lo] > 0 else 0
        last = self.last_i[i]
        for _ in range(_MAX_ITER):
            if not (self.n_hat[nxt] > target or (self.n_hat[nxt] < target and self.n_censor[i] > 0)):
                break
            self.n_censor[i] = max(self.n_censor[i], 0)
            _distribute(self.cen, self.t_s, self.n_censor[i], lo, up + 1, self.t_s[lo], self.t_s[nxt])
            self.n_hat[lo] = self.n_risk[i]
            last = self._sweep(i, lo, up)
            self.n_censor[i] += int(self.n_hat[nxt] - target)
        if self.n_hat[nxt] < target:
            self.n_risk[i + 1] = self.n_hat[nxt]
        self.last_i[i + 1] = last

    def fit_last_interval(self) -> None:
        lo, up = self.lower[-1], self.upper[-1]
        _distribute(self.cen, self.t_s, self.n_censor[-1], lo, up, self.t_s[lo], self.t_s[up])
        self.n_hat[lo] = self.n_risk[-1]
        last = self.last_i[-1]
        for k in range(lo, up + 1):
            self.d[k], self.km_hat[k] = self.step(k, last)
            self.n_hat[k + 1] = self.n_hat[k] - self.d[k] - self.cen[k]
            if self.n_hat[k + 1] < 0:
                self.n_hat[k + 1] = 0
                self.cen[k] = self.n_hat[k] - self.d[k]
            if self.d[k] != 0:
                last = k

    def last_interval_censoring(self) -> None:
        """Censoring in the last interval at the average rate of the earlier intervals."""
        lo, up, lower, upper, t_s = self.lower[-1], self.upper[-1], self.lower, self.upper, self.t_s
        if lower.size > 1 and t_s[upper[-2]] > t_s[lower[0]]:
            rate = self.n_censor[:-1].sum() * (t_s[up] - t_s[lo]) / (t_s[upper[-2]] - t_s[lower[0]])
            self.n_censor[-1] = max(int(min(np.rint(rate), self.n_risk[-1])), 0)
        else:
            self.n_censor[-1] = 0

    def match_total_events(self, total_events: int) -> None:
        """Adjust the last interval's censoring so that the events add up to the published total."""
        lo, up = self.lower[-1], self.upper[-1]
        several = self.lower.size > 1
        if several and int(self.d[: self.upper[-2] + 1].sum()) >= total_events:
            self.d[lo : up + 1] = 0
            self.cen[lo:up] = 0
            self.n_hat[lo + 1 : up + 2] = self.n_risk[-1]
            return
        sumd = int(self.d[: up + 1].sum())
        for _ in range(_MAX_ITER):
            if not (sumd > total_events or (sumd < total_events and self.n_censor[-1] > 0)):
                break
            self.n_censor[-1] = max(self.n_censor[-1] + (sumd - total_events), 0)
            self.fit_last_interval()
            sumd = int(self.d[: up + 1].sum())


def _with_risk_times(t_s: np.ndarray, s: np.ndarray, t_risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each risk-table time becomes a point (S read off the step curve), so an interval with no
    digitised point (a flat stretch) still works."""
    missing = t_risk[~np.isin(t_risk, t_s)]
    if not missing.size:
        return t_s, s
    s_missing = s[np.searchsorted(t_s, missing, side="right") - 1]
    order = np.argsort(np.concatenate([t_s, missing]), kind="stable")
    return np.concatenate([t_s, missing])[order], np.concatenate([s, s_missing])[order]


def reconstruct_ipd(
    km_times: Sequence[float],
    km_survival: Sequence[float],
    risk_times: Sequence[float],
    n_at_risk: Sequence[int],
    total_events: int | None = None,
) -> GuyotResult:
    """Guyot et al. (2012) reconstruction of (time, event) pseudo-IPD.

    ``km_times``/``km_survival``: digitised points of one arm's KM curve.
    ``risk_times``/``n_at_risk``: the published risk table (first time 0).
    ``total_events``: total events in the arm if reported; used to adjust
    censoring in the last interval, as in the original code.
    """
    t_s, s = _clean_points(km_times, km_survival)
    t_risk, n_risk = _risk_table(risk_times, n_at_risk)
    in_range = t_risk <= t_s[-1]
    t_risk, n_risk = t_risk[in_range], n_risk[in_range]
    t_s, s = _with_risk_times(t_s, s, t_risk)
    state = _Reconstruction(t_s, s, np.searchsorted(t_s, t_risk, side="left"), n_risk)
    for i in range(t_risk.size - 1):
        state.fit_interval(i)
    state.last_interval_censoring()
    state.fit_last_interval()
    if total_events is not None:
        state.match_total_events(total_events)
    n_total = int(n_at_risk[0])
    ipd = _pseudo_ipd(t_s, state.d, state.cen, n_total)
    intervals = pd.DataFrame(
        {"time": t_s, "n_at_risk": state.n_hat[: t_s.size].astype(int), "events": state.d, "censored": state.cen}
    )
    return GuyotResult(
        ipd=ipd,
        intervals=intervals,
        n=n_total,
        events=int(ipd["event"].sum()),
        n_censored=int((ipd["event"] == 0).sum()),
        total_events_target=total_events,
        caveats=cv.get_caveats(cv.BENCHMARK_RECONSTRUCTED),
    )
