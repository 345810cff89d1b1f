"""Checks of a fitted Cox model: Schoenfeld residuals, the Grambsch-Therneau PH test, Harrell's C.

Pure numpy over the fitted linear predictor, so they honour delayed entry and strata as R does
(lifelines' own versions do not handle delayed entry).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats._risk import _risk_counts


@dataclass(frozen=True, eq=False)
class PHTestRow:
    """Schoenfeld-residual test of proportional hazards for one covariate."""

    variable: str
    chi2: float
    df: int
    p: float


@dataclass(frozen=True, eq=False)
class PHTest:
    """Grambsch-Therneau (1994) approximate test of proportional hazards.

    This is the algorithm of R ``cox.zph`` before survival 3.0 and of
    lifelines' ``proportional_hazard_test``: scaled Schoenfeld residuals
    (Efron-adjusted for tied deaths) correlated with g(t), default g = rank.
    Survival >= 3.0 ``cox.zph`` uses an exact score test, whose numbers
    differ slightly.
    """

    transform: str
    rows: tuple[PHTestRow, ...]
    global_chi2: float
    global_df: int
    global_p: float


def _stratum_ids(df: pd.DataFrame, strata: Sequence[str]) -> np.ndarray:
    if not strata:
        return np.zeros(len(df), dtype=int)
    ids: np.ndarray = df.groupby(list(strata), sort=True, dropna=False).ngroup().to_numpy()
    return ids


def _risk_sums(values: np.ndarray, exit_: np.ndarray, entry: np.ndarray | None, times: np.ndarray) -> np.ndarray:
    """Σ values over subjects at risk at each time (entry < t <= exit), by prefix sums.

    Subjects with exit >= t, less those whose entry >= t (they are not yet under observation).
    """
    order = np.argsort(exit_, kind="stable")
    suffix = np.concatenate([np.cumsum(values[order][::-1], axis=0)[::-1], np.zeros((1, *values.shape[1:]))])
    total = suffix[np.searchsorted(exit_[order], times, side="left")]
    if entry is not None:
        order_in = np.argsort(entry, kind="stable")
        suffix_in = np.concatenate([np.cumsum(values[order_in][::-1], axis=0)[::-1], np.zeros((1, *values.shape[1:]))])
        total = total - suffix_in[np.searchsorted(entry[order_in], times, side="left")]
    return total


def _schoenfeld_efron(
    x: np.ndarray,
    lp: np.ndarray,
    exit_: np.ndarray,
    event: np.ndarray,
    entry: np.ndarray | None,
    strata: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Unscaled Schoenfeld residuals with R's Efron adjustment for ties.

    Returns (residuals for each death, death times). For d tied deaths the
    expected covariate is the average over k = 0..d-1 of the risk-weighted
    mean with k/d of the dying set's weight removed (R ``coxscho``). Risk-set
    sums come from prefix sums over distinct death times, so the cost grows
    with n log n rather than deaths × n.
    """
    w = np.exp(lp - lp.max())
    resid_parts: list[np.ndarray] = []
    time_parts: list[np.ndarray] = []
    for s in np.unique(strata):
        in_s = strata == s
        xs, ws, ex, ev = x[in_s], w[in_s], exit_[in_s], event[in_s]
        en = entry[in_s] if entry is not None else None
        death_times, death_index = np.unique(ex[ev == 1], return_inverse=True)
        if death_times.size == 0:
            continue
        s0 = _risk_sums(ws, ex, en, death_times)
        s1 = _risk_sums(ws[:, None] * xs, ex, en, death_times)
        dead = ev == 1
        d = np.bincount(death_index, minlength=death_times.size)
        d0 = np.bincount(death_index, weights=ws[dead], minlength=death_times.size)
        d1 = np.stack(
            [
                np.bincount(death_index, weights=ws[dead] * xs[dead, j], minlength=death_times.size)
                for j in range(xs.shape[1])
            ],
            axis=1,
        )
        xbar = np.empty_like(s1)
        for tied in np.unique(d):
            rows = d == tied
            k = np.arange(tied)[:, None, None] / tied  # Efron: remove k/d of the dying set
            means = (s1[rows][None] - k * d1[rows][None]) / (s0[rows][None, :, None] - k * d0[rows][None, :, None])
            xbar[rows] = means.mean(axis=0)
        # Deaths in time order, as R returns them.
        order = np.argsort(ex[dead], kind="stable")
        resid_parts.append(xs[dead][order] - xbar[death_index[order]])
        time_parts.append(ex[dead][order].astype(float))
    if not resid_parts:
        return np.empty((0, x.shape[1])), np.empty(0)
    return np.concatenate(resid_parts), np.concatenate(time_parts)


def _ph_time_transform(
    transform: str,
    death_times: np.ndarray,
    exit_: np.ndarray,
    event: np.ndarray,
    entry: np.ndarray | None,
) -> np.ndarray:
    if transform == "rank":
        ranks: np.ndarray = stats.rankdata(death_times)
        return ranks
    if transform == "identity":
        return death_times.astype(float)
    if transform == "log":
        logs: np.ndarray = np.log(death_times)
        return logs
    if transform == "km":
        # 1 - left-continuous pooled KM at each death time (R's "km").
        t_ev = np.unique(exit_[event == 1])
        n_risk = _risk_counts(entry, exit_, t_ev)
        d = np.array([np.sum((exit_ == t) & (event == 1)) for t in t_ev])
        surv = np.cumprod(1 - d / n_risk)
        left = np.concatenate([[1.0], surv[:-1]])
        return 1 - left[np.searchsorted(t_ev, death_times)]
    raise ValueError(f"unknown PH test transform {transform!r}")


def _ph_test(
    resid: np.ndarray,
    death_times: np.ndarray,
    beta: np.ndarray,
    var: np.ndarray,
    names: Sequence[str],
    transform: str,
    exit_: np.ndarray,
    event: np.ndarray,
    entry: np.ndarray | None,
) -> PHTest:
    g = _ph_time_transform(transform, death_times, exit_, event, entry)
    xx = g - g.mean()
    m = resid.shape[0]
    scaled = resid @ var * m + beta
    num = (xx @ scaled) ** 2
    chi2 = num / (np.diag(var) * m * np.sum(xx**2))
    u = xx @ resid
    g_chi2 = float(u @ var @ u * m / np.sum(xx**2))
    p_ = len(names)
    rows = tuple(PHTestRow(v, float(c), 1, float(stats.chi2.sf(c, 1))) for v, c in zip(names, chi2, strict=True))
    return PHTest(transform, rows, g_chi2, p_, float(stats.chi2.sf(g_chi2, p_)))


def concordance_index(
    lp: np.ndarray,
    exit_: np.ndarray,
    event: np.ndarray,
    entry: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> float:
    """Harrell's C for a risk score, with R ``concordance()`` conventions.

    A pair is comparable when j is at risk at i's death time (entry < t_i <=
    exit_j, same stratum) and j did not die at the same time; ties in the
    score count 1/2. Unlike lifelines it honours delayed entry.

    The comparable set of a death at t is {exit >= t} less {entry >= t} (a subset, as entry <
    exit) less the deaths at t, so every sum over it is a difference of dominance counts, taken
    for all deaths at once in O(n log² n) (`_pairs_at_or_after`), with no loop over death times.
    """
    if strata is None:
        strata = np.zeros(exit_.size, dtype=int)
    ranks = np.unique(lp, return_inverse=True)[1].reshape(-1)
    num2 = 0  # twice the concordant count: integer, so the sum is exact in any order
    den = 0
    for s in np.unique(strata):
        in_s = strata == s
        ex, ev, rk = exit_[in_s], event[in_s], ranks[in_s]
        en = entry[in_s] if entry is not None else None
        dead = ev == 1
        if not dead.any():
            continue
        values, places = np.unique(np.concatenate([ex, en if en is not None else []]), return_inverse=True)
        t_exit = places[: ex.size]
        queries = (t_exit[dead], rk[dead])
        below, level, comparable = _pairs_at_or_after((t_exit, rk), queries, values.size)
        if en is not None:
            e_below, e_level, e_comparable = _pairs_at_or_after((places[ex.size :], rk), queries, values.size)
            below, level, comparable = below - e_below, level - e_level, comparable - e_comparable
        d_below, d_level, d_comparable = _pairs_at_the_same_time(t_exit[dead], rk[dead])
        num2 += 2 * (below - d_below) + (level - d_level)
        den += comparable - d_comparable
    return float(num2 / 2 / den) if den else math.nan


def _pairs_at_or_after(
    points: tuple[np.ndarray, np.ndarray], queries: tuple[np.ndarray, np.ndarray], m: int
) -> tuple[int, int, int]:
    """Summed over queries (t, r), the points (x, s) with x >= t: those with s < r, with s == r,
    and all. Times and scores are integer ranks (times below ``m``).

    s < r exactly when, at the highest bit where they differ, s has 0 and r has 1, above it
    they agree: so bit by bit, the points with 0 there are sorted by (higher bits, time) and
    each query with 1 there looks up the range of its higher bits at times >= t.
    """
    x, s = (np.asarray(a, dtype=np.int64) for a in points)
    t, r = (np.asarray(a, dtype=np.int64) for a in queries)
    all_ = int(x.size * t.size - np.searchsorted(np.sort(x), t, side="left").sum())
    keyed = np.sort(s * m + x)
    level = int((np.searchsorted(keyed, r * m + m, side="left") - np.searchsorted(keyed, r * m + t, side="left")).sum())
    below = 0
    for bit in range(int(max(s.max(), r.max())).bit_length()):
        p_low = (s >> bit) & 1 == 0
        q_high = (r >> bit) & 1 == 1
        keyed = np.sort((s[p_low] >> (bit + 1)) * m + x[p_low])
        base = (r[q_high] >> (bit + 1)) * m
        upper = np.searchsorted(keyed, base + m, side="left")
        below += int((upper - np.searchsorted(keyed, base + t[q_high], side="left")).sum())
    return below, level, all_


def _pairs_at_the_same_time(t: np.ndarray, r: np.ndarray) -> tuple[int, int, int]:
    """Summed over the deaths (t, r), the deaths at the same time t: with a lower score, with the
    same score (itself included), and all."""
    t, r = np.asarray(t, dtype=np.int64), np.asarray(r, dtype=np.int64)
    width = int(r.max()) + 1
    keyed = np.sort(t * width + r)
    mine = t * width + r
    below = int((np.searchsorted(keyed, mine, side="left") - np.searchsorted(keyed, t * width, side="left")).sum())
    level = int((np.searchsorted(keyed, mine, side="right") - np.searchsorted(keyed, mine, side="left")).sum())
    per_time = np.unique(t, return_counts=True)[1]
    return below, level, int((per_time**2).sum())
