"""Cox proportional-hazards regression (lifelines, Efron ties), checked against R ``coxph``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import caveats as cv
from analytics.stats._risk import _z
from analytics.stats._validation import require_columns, survival_arrays
from analytics.stats.caveats import Caveat
from analytics.stats.cox_diagnostics import PHTest, _ph_test, _schoenfeld_efron, _stratum_ids, concordance_index
from analytics.stats.cox_robust import robust_variance
from analytics.stats.results import ResultMixin

PHTransform = Literal["rank", "km", "identity", "log"]


@dataclass(frozen=True, eq=False)
class CoxTerm:
    """One covariate of a Cox model; HR CI is exp(coef +/- z * se)."""

    variable: str
    coef: float
    se: float
    hr: float
    hr_ci_lower: float
    hr_ci_upper: float
    z: float
    p: float


@dataclass(frozen=True, eq=False)
class CoxResult(ResultMixin):
    """Cox proportional-hazards fit (Efron ties, as R coxph's default)."""

    terms: tuple[CoxTerm, ...]
    n: int
    events: int
    n_excluded_missing: int
    concordance: float
    log_likelihood: float
    lr_chi2: float
    lr_df: int
    lr_p: float
    ties: str
    confidence_level: float
    ph_test: PHTest | None
    strata: tuple[str, ...] = ()
    robust: bool = False
    caveats: tuple[Caveat, ...] = ()

    def term(self, variable: str) -> CoxTerm:
        """Return the term for ``variable`` (KeyError if absent)."""
        for t in self.terms:
            if t.variable == variable:
                return t
        raise KeyError(variable)


def cox(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    entry_col: str | None = None,
    strata: Sequence[str] = (),
    weights_col: str | None = None,
    robust: bool = False,
    alpha: float = 0.05,
    ph_transform: PHTransform = "rank",
    concordance: bool = True,
) -> CoxResult:
    """Fit a Cox model (lifelines, Efron ties) and test proportional hazards.

    Agrees with R ``coxph(..., ties = "efron")``. Covariates must be numeric
    (dummy-code categories first) so the reference level is explicit. Rows
    with a missing covariate are dropped and counted, as R's na.omit.
    The PH test (``PHTest``) is skipped (None) for weighted or robust fits,
    where the Grambsch-Therneau approximation is not defined here.
    ``robust`` gives R's sandwich variance from Efron score residuals (``cox_robust``), with
    ``weights_col`` the weighted dfbeta form R uses for ``coxph(weights = w, robust = TRUE)``.
    ``concordance=False`` skips Harrell's C (NaN), whose cost grows with n log² n; a
    C-index says little about a model of one group indicator.
    """
    covariates = list(covariates)
    if not covariates:
        raise ValueError("cox() needs at least one covariate")
    extra = [c for c in (entry_col, weights_col) if c]
    require_columns(df, duration_col, event_col, *covariates, *strata, *extra)
    used = [duration_col, event_col, *covariates, *strata, *extra]
    complete = df[used].dropna()
    n_missing = len(df) - len(complete)
    exit_, event, entry = survival_arrays(complete, duration_col, event_col, entry_col)
    for c in covariates:
        if not pd.api.types.is_numeric_dtype(complete[c]) and not pd.api.types.is_bool_dtype(complete[c]):
            raise ValueError(f"covariate {c!r} is not numeric; dummy-code it first")
    data = complete.copy()
    data[covariates] = data[covariates].astype(float)
    data[event_col] = event
    fitter = _fit(data, duration_col, event_col, entry_col, strata, weights_col, False, alpha)
    z = _z(alpha)
    beta = fitter.params_.loc[covariates].to_numpy()
    x = data[covariates].to_numpy()
    strata_ids = _stratum_ids(data, strata)
    naive = fitter.variance_matrix_.loc[covariates, covariates].to_numpy()
    if robust:
        w = data[weights_col].to_numpy(dtype=float) if weights_col else np.ones(len(data))
        variance = robust_variance(x, beta, naive, exit_, event, w, entry, strata_ids)
    else:
        variance = naive
    se = np.sqrt(np.diag(variance))
    zstat = beta / se
    terms = tuple(
        CoxTerm(
            variable=c,
            coef=float(b),
            se=float(s),
            hr=float(np.exp(b)),
            hr_ci_lower=float(np.exp(b - z * s)),
            hr_ci_upper=float(np.exp(b + z * s)),
            z=float(zs),
            p=float(2 * stats.norm.sf(abs(zs))),
        )
        for c, b, s, zs in zip(covariates, beta, se, zstat, strict=True)
    )
    lp = x @ beta
    ph = None
    if weights_col is None and not robust:
        resid, dtimes = _schoenfeld_efron(x, lp, exit_, event, entry, strata_ids)
        ph = _ph_test(resid, dtimes, beta, naive, covariates, ph_transform, exit_, event, entry)
    lr = fitter.log_likelihood_ratio_test()
    result = CoxResult(
        terms=terms,
        n=len(data),
        events=int(event.sum()),
        n_excluded_missing=int(n_missing),
        concordance=concordance_index(lp, exit_, event, entry, strata_ids) if concordance else math.nan,
        log_likelihood=float(fitter.log_likelihood_),
        lr_chi2=float(lr.test_statistic),
        lr_df=int(lr.degrees_freedom),
        lr_p=float(lr.p_value),
        ties="efron",
        confidence_level=1 - alpha,
        ph_test=ph,
        strata=tuple(strata),
        robust=robust,
    )
    result = result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, cv.IMMORTAL_TIME_BIAS)
    if entry is not None:
        result = result.with_caveats(cv.LEFT_TRUNCATION)
    return result


def _fit(
    data: pd.DataFrame,
    duration_col: str,
    event_col: str,
    entry_col: str | None,
    strata: Sequence[str],
    weights_col: str | None,
    robust: bool,
    alpha: float,
) -> Any:
    """A converged lifelines CoxPHFitter on complete, numeric data (non-convergence is an error)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    fitter = CoxPHFitter(penalizer=0.0, alpha=alpha)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.filterwarnings("ignore", message=".*weights are not integers.*")
            fitter.fit(
                data,
                duration_col=duration_col,
                event_col=event_col,
                entry_col=entry_col,
                strata=list(strata) or None,
                weights_col=weights_col,
                robust=robust,
                fit_options={"precision": 1e-12, "r_precision": 1e-14, "max_steps": 200},
            )
    except (ConvergenceError, ConvergenceWarning) as exc:
        raise ValueError(f"Cox model did not converge: {exc}") from exc
    return fitter


def cox_coefficients(
    data: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    entry_col: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and their model-based covariance only, for repeated fits (multiple imputation).

    The data must be complete and numeric; no PH test or concordance is computed.
    """
    covariates = list(covariates)
    cols = [duration_col, event_col, *covariates, *([entry_col] if entry_col else [])]
    frame = data[cols].astype(float)
    fitter = _fit(frame, duration_col, event_col, entry_col, (), None, False, 0.05)
    beta = fitter.params_.loc[covariates].to_numpy()
    return beta, fitter.variance_matrix_.loc[covariates, covariates].to_numpy()
