"""Small, exact regression fits used by weighting and imputation (no statsmodels needed).

Logistic regression by iteratively reweighted least squares (Newton-Raphson on the binomial
log-likelihood, as R ``glm(family = binomial)``), and least squares with its residual variance.
Both take a design matrix that already holds an intercept column.
"""

from __future__ import annotations

import numpy as np
from scipy import special


class SeparationError(ValueError):
    """The logistic model did not converge: a covariate (nearly) separates the two groups."""


def logistic_fit(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, tol: float = 1e-10, max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """(coefficients, covariance) of a logistic regression of 0/1 ``y`` on ``x`` (IRLS).

    Converges when the deviance changes by less than ``tol`` relative (R's glm rule is 1e-8).
    """
    n, p = x.shape
    w = np.ones(n) if weights is None else weights
    beta = np.zeros(p)
    deviance = np.inf
    for _ in range(max_iter):
        eta = x @ beta
        mu = special.expit(eta)
        var = np.clip(mu * (1 - mu), 1e-12, None)
        z = eta + (y - mu) / var
        xw = x * (w * var)[:, None]
        info = x.T @ xw
        try:
            beta = np.linalg.solve(info, xw.T @ z)
        except np.linalg.LinAlgError as error:
            raise SeparationError("the covariates are collinear; drop or combine some") from error
        mu = special.expit(x @ beta)
        new = -2 * float(np.sum(w * (special.xlogy(y, mu) + special.xlogy(1 - y, 1 - mu))))
        if abs(new - deviance) < tol * (abs(new) + 0.1):
            deviance = new
            break
        deviance = new
    else:
        raise SeparationError("logistic regression did not converge (complete or quasi-complete separation)")
    mu = special.expit(x @ beta)
    info = x.T @ (x * (w * mu * (1 - mu))[:, None])
    cov = np.linalg.inv(info)
    if np.any(np.abs(beta) > 30):
        raise SeparationError("a logistic coefficient diverged (a covariate separates the groups)")
    return beta, cov


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(coefficients, (X'X)⁻¹, residual variance σ̂² with n − p degrees of freedom)."""
    n, p = x.shape
    if n <= p:
        raise ValueError("not enough observed values to fit the imputation model")
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    return beta, xtx_inv, float(resid @ resid / (n - p))


def design(columns: list[np.ndarray]) -> np.ndarray:
    """Intercept plus the given columns, as a float matrix."""
    n = columns[0].size if columns else 0
    return np.column_stack([np.ones(n), *[np.asarray(c, dtype=float) for c in columns]])
