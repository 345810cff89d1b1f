"""Propensity scores and inverse probability of treatment weights (IPTW) with balance checks.

For a comparison between two treated groups that share a time zero (route vs route, both from
the first dose): a logistic model of group on baseline covariates gives the propensity score
e(x); stabilised weights are P(A = 1)/e(x) for the index group and P(A = 0)/(1 − e(x)) for
the other (Austin & Stuart, Stat Med 2015;34:3661-79). Extreme weights are truncated at chosen
percentiles (Cole & Hernán, Am J Epidemiol 2008;168:656-64), and the number truncated is
reported. Balance is the standardised mean difference (SMD) of every covariate before and after
weighting, both divided by the same pooled SD of the unweighted groups (Austin 2009); |SMD| < 0.1
is the usual target. The rows are what a love plot draws.

Missing covariates are refused, not dropped: impute them first (``imputation``) or choose the
complete cases explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from analytics.stats import caveats as cv
from analytics.stats._validation import require_columns
from analytics.stats.caveats import Caveat
from analytics.stats.regression import design, logistic_fit
from analytics.stats.results import ResultMixin

BALANCE_THRESHOLD = 0.1
"""|SMD| below this counts as balanced."""


@dataclass(frozen=True, eq=False)
class BalanceRow:
    """One covariate of the love plot."""

    covariate: str
    binary: bool
    mean_index_before: float
    mean_other_before: float
    smd_before: float
    mean_index_after: float
    mean_other_after: float
    smd_after: float


@dataclass(frozen=True, eq=False)
class PropensityTerm:
    variable: str
    coef: float
    se: float


@dataclass(frozen=True, eq=False)
class IPTWResult(ResultMixin):
    """Propensity model, stabilised weights and balance. ``weights`` align with the input rows.

    ``n`` counts both groups; there are no events in a weighting step (``events`` None).
    """

    group: str
    covariates: tuple[str, ...]
    n: int
    events: None
    n_index: int
    n_other: int
    model: tuple[PropensityTerm, ...]
    truncation: tuple[float, float] | None
    truncated_low: int
    truncated_high: int
    weight_bounds: tuple[float, float]
    ess_index: float
    ess_other: float
    balance: tuple[BalanceRow, ...]
    max_abs_smd_before: float
    max_abs_smd_after: float
    balanced: bool
    caveats: tuple[Caveat, ...] = ()
    _weights: np.ndarray | None = field(default=None, repr=False)
    _scores: np.ndarray | None = field(default=None, repr=False)

    @property
    def weights(self) -> np.ndarray:
        assert self._weights is not None
        return self._weights

    @property
    def scores(self) -> np.ndarray:
        assert self._scores is not None
        return self._scores


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw²."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w * w)) if w.size else 0.0


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    mean = float(np.sum(w * x) / np.sum(w))
    return mean, float(np.sum(w * (x - mean) ** 2) / np.sum(w))


def standardised_differences(
    x: np.ndarray, index: np.ndarray, weights: np.ndarray | None = None, names: Sequence[str] = ()
) -> tuple[BalanceRow, ...]:
    """SMD of each column of ``x`` between index (True) and other rows, before and after weighting."""
    w = np.ones(len(index)) if weights is None else weights
    rows = []
    for j in range(x.shape[1]):
        col = x[:, j]
        binary = bool(np.isin(col, (0.0, 1.0)).all())
        a, b = col[index], col[~index]
        m1, m0 = float(a.mean()), float(b.mean())
        if binary:
            pooled = math.sqrt((m1 * (1 - m1) + m0 * (1 - m0)) / 2)
        else:
            pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2) if a.size > 1 and b.size > 1 else math.nan
        w1, _ = _weighted_moments(a, w[index])
        w0, _ = _weighted_moments(b, w[~index])
        name = names[j] if names else str(j)
        before = (m1 - m0) / pooled if pooled > 0 else 0.0
        after = (w1 - w0) / pooled if pooled > 0 else 0.0
        rows.append(BalanceRow(name, binary, m1, m0, before, w1, w0, after))
    return tuple(rows)


def iptw(
    df: pd.DataFrame,
    group_col: str,
    covariates: Sequence[str],
    truncate_at: tuple[float, float] | None = (0.01, 0.99),
) -> IPTWResult:
    """Stabilised IPTW for a 0/1 ``group_col`` (1 = index group) on numeric ``covariates``.

    ``truncate_at`` gives the percentiles of the stabilised weights beyond which weights are set
    to the percentile value (None: no truncation).
    """
    covariates = list(covariates)
    require_columns(df, group_col, *covariates)
    missing = [c for c in (group_col, *covariates) if df[c].isna().any()]
    if missing:
        raise ValueError(f"missing values in {', '.join(missing)}: impute them or restrict to complete cases first")
    a = df[group_col].to_numpy(dtype=float)
    if not np.isin(a, (0.0, 1.0)).all() or a.min() == a.max():
        raise ValueError(f"{group_col} must be coded 0/1 with both groups present")
    x = df[covariates].to_numpy(dtype=float)
    beta, cov = logistic_fit(design(list(x.T)), a)
    scores = special.expit(design(list(x.T)) @ beta)
    p1 = a.mean()
    w = np.where(a == 1, p1 / scores, (1 - p1) / (1 - scores))
    low = high = 0
    bounds = (float(w.min()), float(w.max()))
    if truncate_at is not None:
        lo_q, hi_q = truncate_at
        if not 0 <= lo_q < hi_q <= 1:
            raise ValueError("truncate_at must be two percentiles 0 <= low < high <= 1")
        lo_w, hi_w = np.quantile(w, [lo_q, hi_q])
        low, high = int((w < lo_w).sum()), int((w > hi_w).sum())
        w = np.clip(w, lo_w, hi_w)
        bounds = (float(lo_w), float(hi_w))
    index = a == 1
    balance = standardised_differences(x, index, w, covariates)
    se = np.sqrt(np.diag(cov))
    max_after = max(abs(r.smd_after) for r in balance)
    result = IPTWResult(
        group=group_col,
        covariates=tuple(covariates),
        n=int(a.size),
        events=None,
        n_index=int(index.sum()),
        n_other=int((~index).sum()),
        model=tuple(
            PropensityTerm(name, float(b), float(s))
            for name, b, s in zip(["(intercept)", *covariates], beta, se, strict=True)
        ),
        truncation=truncate_at,
        truncated_low=low,
        truncated_high=high,
        weight_bounds=bounds,
        ess_index=effective_sample_size(w[index]),
        ess_other=effective_sample_size(w[~index]),
        balance=balance,
        max_abs_smd_before=max(abs(r.smd_before) for r in balance),
        max_abs_smd_after=max_after,
        balanced=bool(max_after < BALANCE_THRESHOLD),
        _weights=w,
        _scores=scores,
    )
    return result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.IPTW)
