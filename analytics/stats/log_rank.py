"""Log-rank test for two or more groups, as R ``survdiff(rho = 0)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import caveats as cv
from analytics.stats._validation import require_columns, survival_arrays
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin


@dataclass(frozen=True, eq=False)
class GroupSummary:
    """Per-group counts from a log-rank test."""

    group: str
    n: int
    events: int
    observed: float
    expected: float


@dataclass(frozen=True, eq=False)
class TestResult(ResultMixin):
    """A chi-square test comparing survival between groups.

    A test has no effect estimate, so there are no CI fields; report a Cox
    hazard ratio (with CI) alongside it.
    """

    __test__ = False  # not a pytest test class despite the name

    test: str
    chi2: float
    df: int
    p: float
    groups: tuple[GroupSummary, ...]
    n: int
    events: int
    caveats: tuple[Caveat, ...] = ()


def logrank(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str,
    entry_col: str | None = None,
) -> TestResult:
    """Log-rank test for two or more groups, as R ``survdiff(rho = 0)``.

    chi2 = (O - E)' V^- (O - E) over k - 1 groups with the hypergeometric
    variance, df = k - 1. ``entry_col`` (delayed entry) restricts risk sets
    to entry < t <= exit; R's survdiff has no such option, so that variant
    is checked only against its own definition. Sorted once, then risk sets and deaths per
    distinct event time come from searchsorted and bincount (no loop over times).
    """
    exit_, event, entry = survival_arrays(df, duration_col, event_col, entry_col)
    require_columns(df, group_col)
    codes, uniques = pd.factorize(df[group_col].to_numpy())
    if (codes < 0).any():
        raise ValueError(f"missing values in {group_col}")
    rank = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
    groups = [uniques[i] for i in rank]
    k = len(groups)
    if k < 2:
        raise ValueError("log-rank test needs at least two groups")
    gidx = np.argsort(rank)[codes]  # groups numbered in the order of their labels as text

    observed, expected, var = _logrank_sums(exit_, event, entry, gidx, k)
    diff = (observed - expected)[1:]
    chi2 = float(diff @ np.linalg.pinv(var[1:, 1:]) @ diff)
    dof = k - 1
    summaries = tuple(
        GroupSummary(
            group=str(g),
            n=int(np.sum(gidx == i)),
            events=int(event[gidx == i].sum()),
            observed=float(observed[i]),
            expected=float(expected[i]),
        )
        for i, g in enumerate(groups)
    )
    result = TestResult(
        test="log-rank",
        chi2=chi2,
        df=dof,
        p=float(stats.chi2.sf(chi2, dof)),
        groups=summaries,
        n=int(exit_.size),
        events=int(event.sum()),
    )
    result = result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, cv.IMMORTAL_TIME_BIAS)
    if entry is not None:
        result = result.with_caveats(cv.LEFT_TRUNCATION)
    return result


def _logrank_sums(
    exit_: np.ndarray, event: np.ndarray, entry: np.ndarray | None, gidx: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed and expected events per group and the hypergeometric variance, summed over the
    distinct event times t: n_j(t) at risk (entry < t <= exit) and d_j(t) deaths in group j."""
    dead = event == 1
    times, time_index = np.unique(exit_[dead], return_inverse=True)
    n_j = _count_at_or_after(exit_, gidx, k, times)
    if entry is not None:  # entry < exit, so anyone entering at or after t is also counted above
        n_j -= _count_at_or_after(entry, gidx, k, times)
    d_j = np.bincount(time_index * k + gidx[dead], minlength=times.size * k).reshape(times.size, k).astype(float)
    n_t, d_t = n_j.sum(axis=1), d_j.sum(axis=1)
    frac = n_j / n_t[:, None]
    expected = d_t @ frac
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n_t > 1, d_t * (n_t - d_t) / (n_t - 1), 0.0)
    var = np.diag(weight @ frac) - (frac * weight[:, None]).T @ frac
    return d_j.sum(axis=0), expected, var


def _count_at_or_after(values: np.ndarray, gidx: np.ndarray, k: int, times: np.ndarray) -> np.ndarray:
    """Per time (rows) and group (columns), how many have value >= time: each value's place
    among the sorted times, counted per group, then summed from the last time backwards."""
    place = np.searchsorted(times, values, side="right")  # value >= times[m] exactly when m < place
    counts = np.bincount(place * k + gidx, minlength=(times.size + 1) * k).reshape(times.size + 1, k)
    at_or_after: np.ndarray = np.cumsum(counts[::-1], axis=0)[::-1][1:].astype(float)
    return at_or_after
