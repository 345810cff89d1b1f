"""Multiple imputation by chained equations (MICE) for Cox covariates, pooled by Rubin's rules.

Each incomplete covariate is imputed in turn from the others, the event indicator and the
Nelson-Aalen cumulative hazard at the patient's exit time (White & Royston, Stat Med
2009;28:1982-98: with these two the imputation model is compatible with the Cox model).
Continuous covariates use predictive mean matching (PMM, 5 donors, type-1 matching: the
regression coefficients are drawn from their posterior for the incomplete rows), so imputed
values are values that occur, within their bounds; 0/1 covariates use a logistic model with
coefficients drawn from their approximate posterior (van Buuren, Flexible Imputation of Missing
Data, 2nd ed., 2018, §3.2-3.4). The cycle runs ``iterations`` times for each of ``m`` data sets.

Rubin's rules (Rubin 1987): Q̄ = mean of the m estimates, Ū = mean within-imputation variance,
B = between-imputation variance, T = Ū + (1 + 1/m)·B, degrees of freedom
ν = (m − 1)(1 + 1/r)² with r = (1 + 1/m)B/Ū, and the fraction of missing information
(r + 2/(ν + 3))/(r + 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from analytics.stats import caveats as cv
from analytics.stats._risk import _z, km_steps
from analytics.stats._validation import require_columns, survival_arrays
from analytics.stats.caveats import Caveat
from analytics.stats.cox_model import cox_coefficients
from analytics.stats.regression import design, least_squares, logistic_fit
from analytics.stats.results import ResultMixin

PMM_DONORS = 5


@dataclass(frozen=True, eq=False)
class PooledTerm:
    """One pooled coefficient: HR CI from a t distribution with Rubin's degrees of freedom."""

    variable: str
    coef: float
    se: float
    hr: float
    hr_ci_lower: float
    hr_ci_upper: float
    p: float
    df: float
    within_variance: float
    between_variance: float
    fraction_missing_information: float


@dataclass(frozen=True, eq=False)
class MIResult(ResultMixin):
    """A Cox model fitted on ``m`` imputed data sets and pooled. ``missing`` counts per covariate."""

    terms: tuple[PooledTerm, ...]
    n: int
    events: int
    m: int
    iterations: int
    seed: int
    missing: dict[str, int]
    n_complete_cases: int
    imputation_model: str
    confidence_level: float
    caveats: tuple[Caveat, ...] = ()

    def term(self, variable: str) -> PooledTerm:
        for t in self.terms:
            if t.variable == variable:
                return t
        raise KeyError(variable)


def rubin_pool(
    estimates: np.ndarray, variances: np.ndarray, names: Sequence[str], alpha: float = 0.05
) -> tuple[PooledTerm, ...]:
    """Pool m estimates (m × p) and their variances (m × p, the diagonals) by Rubin's rules."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = q.shape[0]
    if m < 2:
        raise ValueError("Rubin's rules need at least two imputations")
    q_bar = q.mean(axis=0)
    u_bar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    total = u_bar + (1 + 1 / m) * b
    terms = []
    for j, name in enumerate(names):
        r = (1 + 1 / m) * b[j] / u_bar[j]
        df = math.inf if r == 0 else (m - 1) * (1 + 1 / r) ** 2
        fmi = (r + 2 / (df + 3)) / (r + 1) if math.isfinite(df) else 0.0
        se = math.sqrt(total[j])
        crit = _z(alpha) if math.isinf(df) else float(stats.t.ppf(1 - alpha / 2, df))
        tstat = q_bar[j] / se
        p = 2 * (stats.norm.sf(abs(tstat)) if math.isinf(df) else stats.t.sf(abs(tstat), df))
        terms.append(
            PooledTerm(
                variable=name,
                coef=float(q_bar[j]),
                se=se,
                hr=float(np.exp(q_bar[j])),
                hr_ci_lower=float(np.exp(q_bar[j] - crit * se)),
                hr_ci_upper=float(np.exp(q_bar[j] + crit * se)),
                p=float(p),
                df=float(df),
                within_variance=float(u_bar[j]),
                between_variance=float(b[j]),
                fraction_missing_information=float(fmi),
            )
        )
    return tuple(terms)


def nelson_aalen_at_exit(exit_: np.ndarray, event: np.ndarray, entry: np.ndarray | None = None) -> np.ndarray:
    """Each patient's Nelson-Aalen cumulative hazard H(T) at their own exit time."""
    times, n_risk, d, _ = km_steps(exit_, event, entry)
    with np.errstate(divide="ignore", invalid="ignore"):
        cumhaz = np.cumsum(np.where(n_risk > 0, d / n_risk, 0.0))
    return cumhaz[np.searchsorted(times, exit_)]


def _pmm(yhat_obs: np.ndarray, y_obs: np.ndarray, yhat_mis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Predictive mean matching: for each missing row, one of the 5 observed rows nearest in ŷ."""
    order = np.argsort(yhat_obs, kind="stable")
    sorted_hat = yhat_obs[order]
    k = min(PMM_DONORS, sorted_hat.size)
    pos = np.searchsorted(sorted_hat, yhat_mis)
    window = np.clip(pos[:, None] + np.arange(-k, k)[None, :], 0, sorted_hat.size - 1)
    distance = np.abs(sorted_hat[window] - yhat_mis[:, None])
    nearest = np.argsort(distance, axis=1, kind="stable")[:, :k]
    pick = nearest[np.arange(yhat_mis.size), rng.integers(0, k, yhat_mis.size)]
    donors: np.ndarray = y_obs[order[window[np.arange(yhat_mis.size), pick]]]
    return donors


def _impute_one(
    target: np.ndarray,
    observed: np.ndarray,
    predictors: np.ndarray,
    binary: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """New draws for the missing entries of ``target`` given complete ``predictors``."""
    x = design(list(predictors.T))
    x_obs, y_obs, x_mis = x[observed], target[observed], x[~observed]
    if binary:
        beta, cov = logistic_fit(x_obs, y_obs)
        draw = rng.multivariate_normal(beta, cov, method="cholesky")
        drawn: np.ndarray = (rng.random(x_mis.shape[0]) < special.expit(x_mis @ draw)).astype(float)
        return drawn
    beta, xtx_inv, sigma2 = least_squares(x_obs, y_obs)
    dof = x_obs.shape[0] - x_obs.shape[1]
    sigma2_draw = sigma2 * dof / rng.chisquare(dof)
    draw = beta + np.linalg.cholesky(xtx_inv * sigma2_draw + 1e-12 * np.eye(beta.size)) @ rng.standard_normal(beta.size)
    return _pmm(x_obs @ beta, y_obs, x_mis @ draw, rng)


def impute_chained(
    values: np.ndarray,
    auxiliary: np.ndarray,
    binary: Sequence[bool],
    iterations: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One completed copy of ``values`` (n × p, NaN = missing) by chained equations.

    ``auxiliary`` (n × q, complete) joins every imputation model (here: event and H(T)).
    """
    missing = np.isnan(values)
    filled = values.copy()
    columns = [j for j in np.argsort(missing.sum(axis=0), kind="stable") if missing[:, j].any()]
    for j in columns:  # start from random observed values
        pool = values[~missing[:, j], j]
        if pool.size < 2:
            raise ValueError("a covariate has fewer than two observed values; it cannot be imputed")
        filled[missing[:, j], j] = rng.choice(pool, size=int(missing[:, j].sum()))
    for _ in range(iterations):
        for j in columns:
            others = np.delete(filled, j, axis=1)
            predictors = np.column_stack([others, auxiliary])
            filled[missing[:, j], j] = _impute_one(filled[:, j], ~missing[:, j], predictors, binary[j], rng)
    return filled


def cox_multiple_imputation(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    m: int = 20,
    iterations: int = 10,
    seed: int = 20250101,
    entry_col: str | None = None,
    alpha: float = 0.05,
) -> MIResult:
    """Cox model with missing covariates imputed ``m`` times by MICE and pooled by Rubin's rules.

    Rows need complete survival data; covariates may be missing (NaN), and 0/1 covariates are
    imputed as 0/1. With nothing missing, every imputation is the data itself (B = 0).
    """
    covariates = list(covariates)
    require_columns(df, *covariates)
    exit_, event, entry = survival_arrays(df, duration_col, event_col, entry_col)
    values = df[covariates].to_numpy(dtype=float)
    missing = np.isnan(values)
    binary = [bool(np.isin(values[~missing[:, j], j], (0.0, 1.0)).all()) for j in range(len(covariates))]
    auxiliary = np.column_stack([event, nelson_aalen_at_exit(exit_, event, entry)])
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"_time": exit_, "_event": event})
    if entry is not None:
        frame["_entry"] = entry
    estimates, variances = [], []
    for _ in range(m):
        completed = impute_chained(values, auxiliary, binary, iterations, rng) if missing.any() else values
        data = frame.assign(**{c: completed[:, j] for j, c in enumerate(covariates)})
        beta, cov = cox_coefficients(
            data, "_time", "_event", covariates, entry_col="_entry" if entry is not None else None
        )
        estimates.append(beta)
        variances.append(np.diag(cov))
    result = MIResult(
        terms=rubin_pool(np.array(estimates), np.array(variances), covariates, alpha),
        n=int(exit_.size),
        events=int(event.sum()),
        m=m,
        iterations=iterations,
        seed=seed,
        missing={c: int(missing[:, j].sum()) for j, c in enumerate(covariates)},
        n_complete_cases=int((~missing.any(axis=1)).sum()),
        imputation_model=(
            "chained equations; predictors: the other covariates, the event indicator and the Nelson-Aalen "
            "cumulative hazard at exit; continuous: predictive mean matching (5 donors); 0/1: logistic"
        ),
        confidence_level=1 - alpha,
    )
    return result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, cv.MULTIPLE_IMPUTATION)
