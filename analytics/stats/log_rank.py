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
    is checked only against its own definition.
    """
    exit_, event, entry = survival_arrays(df, duration_col, event_col, entry_col)
    require_columns(df, group_col)
    if df[group_col].isna().any():
        raise ValueError(f"missing values in {group_col}")
    labels = df[group_col].to_numpy()
    groups = sorted(pd.unique(labels), key=str)
    k = len(groups)
    if k < 2:
        raise ValueError("log-rank test needs at least two groups")
    gidx = np.searchsorted(np.array([str(g) for g in groups]), labels.astype(str))

    event_times = np.unique(exit_[event == 1])
    observed = np.zeros(k)
    expected = np.zeros(k)
    var = np.zeros((k, k))
    for t in event_times:
        at_risk = exit_ >= t
        if entry is not None:
            at_risk &= entry < t
        n_j = np.bincount(gidx[at_risk], minlength=k).astype(float)
        dies = (exit_ == t) & (event == 1)
        d_j = np.bincount(gidx[dies], minlength=k).astype(float)
        n_t, d_t = n_j.sum(), d_j.sum()
        observed += d_j
        expected += d_t * n_j / n_t
        if n_t > 1:
            frac = n_j / n_t
            var += d_t * (n_t - d_t) / (n_t - 1) * (np.diag(frac) - np.outer(frac, frac))
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
