"""Unanchored matching-adjusted indirect comparison (MAIC) weights.

Signorovitch et al., Value Health 2010;13:940-7; NICE DSU TSD 18 (Phillippo et al. 2016).
Registry covariates are centred on the trial's published baseline: Zᵢ = xᵢ − m (and, where a
published SD s is given, (xᵢ − m)² − s² so the second moment matches as well). The coefficients
α minimise Q(α) = Σᵢ exp(Zᵢα), a convex function whose gradient Σᵢ Zᵢ exp(Zᵢα) is zero exactly
when the weighted means equal the targets; weights are wᵢ = exp(Zᵢα), rescaled to sum to n.
The effective sample size (Σw)²/Σw² says how much information is left.

Unanchored: there is no common comparator arm, so the comparison assumes every prognostic factor
and effect modifier is in the match. The result always carries that caveat. A target outside the
range of the registry's values has no solution and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.stats import caveats as cv
from analytics.stats._validation import require_columns
from analytics.stats.caveats import Caveat
from analytics.stats.propensity import effective_sample_size
from analytics.stats.results import ResultMixin


@dataclass(frozen=True, eq=False)
class MAICBalance:
    covariate: str
    moment: str  # "mean" or "sd"
    target: float
    unweighted: float
    weighted: float


@dataclass(frozen=True, eq=False)
class MAICResult(ResultMixin):
    """MAIC weights (aligned with the input rows) with their effective sample size."""

    n: int
    events: None
    covariates: tuple[str, ...]
    coefficients: tuple[float, ...]
    ess: float
    balance: tuple[MAICBalance, ...]
    max_abs_difference: float
    iterations: int
    caveats: tuple[Caveat, ...] = ()
    _weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def weights(self) -> np.ndarray:
        assert self._weights is not None
        return self._weights


def centred_moments(
    df: pd.DataFrame, target_means: Mapping[str, float], target_sds: Mapping[str, float] | None = None
) -> tuple[np.ndarray, list[tuple[str, str, float]]]:
    """The matrix Z of centred moments and a description (covariate, moment, target) per column."""
    target_sds = dict(target_sds or {})
    unknown = set(target_sds) - set(target_means)
    if unknown:
        raise ValueError(f"an SD target needs a mean target too: {sorted(unknown)}")
    require_columns(df, *target_means)
    missing = [c for c in target_means if df[c].isna().any()]
    if missing:
        raise ValueError(f"missing values in {', '.join(missing)}: MAIC needs complete covariates")
    columns, described = [], []
    for name, mean in target_means.items():
        x = df[name].to_numpy(dtype=float)
        columns.append(x - mean)
        described.append((name, "mean", float(mean)))
        if name in target_sds:
            sd = float(target_sds[name])
            columns.append((x - mean) ** 2 - sd**2)
            described.append((name, "sd", sd))
    return np.column_stack(columns), described


def solve_maic(z: np.ndarray, tol: float = 1e-10, max_iter: int = 100) -> tuple[np.ndarray, int]:
    """α minimising Σ exp(Zα) by Newton's method with backtracking (Q is convex).

    Columns are scaled by their SD first so that one Newton step size suits all of them.
    """
    scale = z.std(axis=0)
    scale[scale == 0] = 1.0
    zs = z / scale
    alpha = np.zeros(z.shape[1])
    objective = float(np.exp(zs @ alpha).sum())
    for iteration in range(1, max_iter + 1):
        e = np.exp(zs @ alpha)
        grad = zs.T @ e
        if np.max(np.abs(grad)) / e.sum() < tol:
            return alpha / scale, iteration
        hess = zs.T @ (zs * e[:, None])
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-12:
            candidate = alpha - t * step
            value = float(np.exp(zs @ candidate).sum())
            if np.isfinite(value) and value <= objective:
                break
            t /= 2
        else:
            break
        alpha, objective = candidate, value
    raise ValueError("the targets lie outside the range of the registry's values; MAIC has no solution")


def maic_weights(
    df: pd.DataFrame,
    target_means: Mapping[str, float],
    target_sds: Mapping[str, float] | None = None,
) -> MAICResult:
    """Weights that make the registry's covariate means (and SDs, if given) equal the targets.

    Binary covariates are matched on their proportion (give the target as a proportion).
    """
    if not target_means:
        raise ValueError("no targets: enter the trial's published baseline first")
    z, described = centred_moments(df, target_means, target_sds)
    alpha, iterations = solve_maic(z)
    w = np.exp(z @ alpha - np.max(z @ alpha))
    w = w * len(w) / w.sum()
    balance = []
    for name, moment, target in described:
        x = df[name].to_numpy(dtype=float)
        if moment == "mean":
            raw, weighted = float(x.mean()), float(np.average(x, weights=w))
        else:
            mean = float(target_means[name])
            raw = float(np.sqrt(np.mean((x - x.mean()) ** 2)))
            weighted = float(np.sqrt(np.average((x - mean) ** 2, weights=w)))
        balance.append(MAICBalance(name, moment, target, raw, weighted))
    result = MAICResult(
        n=len(w),
        events=None,
        covariates=tuple(target_means),
        coefficients=tuple(float(a) for a in alpha),
        ess=effective_sample_size(w),
        balance=tuple(balance),
        max_abs_difference=max(abs(b.weighted - b.target) for b in balance),
        iterations=iterations,
        _weights=w,
    )
    return result.with_caveats(cv.MAIC_UNANCHORED, cv.EXTERNAL_COMPARATOR)
