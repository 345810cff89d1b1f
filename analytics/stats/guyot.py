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


def reconstruct_ipd(  # noqa: C901 - split by the statistics work (issue 13)
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
    t_risk = np.asarray(risk_times, dtype=float)
    n_risk = np.asarray(n_at_risk, dtype=float).copy()
    if t_risk.size != n_risk.size or t_risk.size == 0:
        raise ValueError("risk_times and n_at_risk must be non-empty and of equal length")
    if np.any(np.diff(t_risk) <= 0) or np.any(np.diff(n_risk) > 0) or n_risk[0] <= 0:
        raise ValueError("risk times must increase and numbers at risk must not increase")
    if t_risk[0] != 0:
        raise ValueError("the risk table must start at time 0")
    in_range = t_risk <= t_s[-1]
    t_risk, n_risk = t_risk[in_range], n_risk[in_range]
    # Each risk-table time becomes a point (S read off the step curve), so an
    # interval with no digitised point - a flat stretch - still works.
    missing = t_risk[~np.isin(t_risk, t_s)]
    if missing.size:
        s_missing = s[np.searchsorted(t_s, missing, side="right") - 1]
        order = np.argsort(np.concatenate([t_s, missing]), kind="stable")
        t_s = np.concatenate([t_s, missing])[order]
        s = np.concatenate([s, s_missing])[order]
    lower = np.searchsorted(t_s, t_risk, side="left")
    n_int = lower.size
    n_t = t_s.size
    upper = np.concatenate([lower[1:] - 1, [n_t - 1]])

    n_censor = np.zeros(n_int, dtype=int)
    n_hat = np.full(n_t + 1, n_risk[0] + 1)
    cen = np.zeros(n_t, dtype=int)
    d = np.zeros(n_t, dtype=int)
    km_hat = np.ones(n_t)
    last_i = np.zeros(n_int, dtype=int)

    def step(k: int, last: int) -> tuple[int, float]:
        """Events at point k so the reconstructed KM matches the digitised S."""
        if km_hat[last] == 0 or n_hat[k] <= 0:
            return 0, km_hat[last]
        dk = int(np.rint(n_hat[k] * (1 - s[k] / km_hat[last])))
        dk = max(0, min(dk, int(n_hat[k])))
        return dk, km_hat[last] * (1 - dk / n_hat[k])

    # Intervals 1 .. n_int-1: iterate censoring until n_hat meets the table.
    last = 0
    for i in range(n_int - 1):
        lo, up, nxt = lower[i], upper[i], lower[i + 1]
        n_censor[i] = int(np.rint(n_risk[i] * s[nxt] / s[lo] - n_risk[i + 1])) if s[lo] > 0 else 0
        for _ in range(_MAX_ITER):
            if not (n_hat[nxt] > n_risk[i + 1] or (n_hat[nxt] < n_risk[i + 1] and n_censor[i] > 0)):
                break
            if n_censor[i] <= 0:
                n_censor[i] = 0
            _distribute(cen, t_s, n_censor[i], lo, up + 1, t_s[lo], t_s[nxt])
            n_hat[lo] = n_risk[i]
            last = last_i[i]
            for k in range(lo, up + 1):
                if i == 0 and k == lo:
                    d[k], km_hat[k] = 0, 1.0
                else:
                    d[k], km_hat[k] = step(k, last)
                n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
                if d[k] != 0:
                    last = k
            n_censor[i] += int(n_hat[nxt] - n_risk[i + 1])
        if n_hat[nxt] < n_risk[i + 1]:
            n_risk[i + 1] = n_hat[nxt]
        last_i[i + 1] = last

    # Last interval: censoring at the average rate of the earlier intervals.
    lo, up = lower[-1], upper[-1]

    def last_interval() -> None:
        _distribute(cen, t_s, n_censor[-1], lo, up, t_s[lo], t_s[up])
        n_hat[lo] = n_risk[-1]
        lst = last_i[-1]
        for k in range(lo, up + 1):
            d[k], km_hat[k] = step(k, lst)
            n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
            if n_hat[k + 1] < 0:
                n_hat[k + 1] = 0
                cen[k] = n_hat[k] - d[k]
            if d[k] != 0:
                lst = k

    if n_int > 1 and t_s[upper[-2]] > t_s[lower[0]]:
        rate = n_censor[:-1].sum() * (t_s[up] - t_s[lo]) / (t_s[upper[-2]] - t_s[lower[0]])
        n_censor[-1] = int(min(np.rint(rate), n_risk[-1]))
    else:
        n_censor[-1] = 0
    n_censor[-1] = max(n_censor[-1], 0)
    last_interval()

    if total_events is not None:
        sum_before = int(d[: upper[-2] + 1].sum()) if n_int > 1 else 0
        if n_int > 1 and sum_before >= total_events:
            d[lo : up + 1] = 0
            cen[lo:up] = 0
            n_hat[lo + 1 : up + 2] = n_risk[-1]
        else:
            sumd = int(d[: up + 1].sum())
            for _ in range(_MAX_ITER):
                if not (sumd > total_events or (sumd < total_events and n_censor[-1] > 0)):
                    break
                n_censor[-1] = max(n_censor[-1] + (sumd - total_events), 0)
                last_interval()
                sumd = int(d[: up + 1].sum())

    # Pseudo-IPD: events at digitised times, censorings at interval midpoints,
    # everyone left over censored at the last digitised time.
    n_total = int(n_at_risk[0])
    times: list[float] = []
    events: list[int] = []
    for j in range(n_t):
        times.extend([t_s[j]] * int(d[j]))
        events.extend([1] * int(d[j]))
    for j in range(n_t - 1):
        times.extend([(t_s[j] + t_s[j + 1]) / 2] * int(cen[j]))
        events.extend([0] * int(cen[j]))
    remaining = n_total - len(times)
    if remaining < 0:
        raise ValueError("reconstruction produced more patients than the risk table allows")
    times.extend([t_s[-1]] * remaining)
    events.extend([0] * remaining)
    ipd = pd.DataFrame({"time": times, "event": events}).sort_values(
        ["time", "event"], ascending=[True, False], ignore_index=True
    )
    intervals = pd.DataFrame({"time": t_s, "n_at_risk": n_hat[:n_t].astype(int), "events": d, "censored": cen})
    return GuyotResult(
        ipd=ipd,
        intervals=intervals,
        n=n_total,
        events=int(ipd["event"].sum()),
        n_censored=int((ipd["event"] == 0).sum()),
        total_events_target=total_events,
        caveats=cv.get_caveats(cv.BENCHMARK_RECONSTRUCTED),
    )
