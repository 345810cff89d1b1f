"""ENCALS survival prediction model (Westeneng et al., Lancet Neurol 2018).

Royston-Parmar proportional-odds model with a restricted-cubic-spline
baseline in x = ln(t), t in months from symptom onset; the event is the
composite of death, tracheostomy or NIV >23 h/day.

The coefficients come from public R code, not the paper's supplement
(domain.md section 4), so every result carries the
``encals_coefficients_unverified`` caveat. That code omits the cube on the
(x - kmax) spline term; here the standard basis with the cube is used.

Expected events for a registry cohort are computed conditionally on
surviving to entry (left truncation): E_i = Λ_i(exit) - Λ_i(entry).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize

from analytics.stats import caveats as cv
from analytics.stats._validation import require_columns, survival_arrays
from analytics.stats.smr import SMRResult, smr_from_counts

DAYS_PER_MONTH = 365.25 / 12
"""Convert day counts to the model's months with this (Julian-year month)."""


@dataclass(frozen=True)
class EncalsCoefficients:
    """Linear-predictor coefficients, in the order of the model's predictors."""

    name: str
    slope: float
    delay: float
    age: float
    fvc: float
    bulbar: float
    definite: float
    ftd: float
    c9orf72: float


ENCALS = EncalsCoefficients("ENCALS", -1.837, -2.373, -0.267, 0.477, 0.269, 0.233, 0.388, 0.256)
"""Full ENCALS model (with C9orf72)."""

TRICALS_RISK_PROFILE = EncalsCoefficients(
    "TRICALS risk profile", -1.839, -2.376, -0.264, 0.474, 0.271, 0.238, 0.415, 0.0
)
"""Model without C9orf72, used for TRICALS trial selection (LP in [-6, -2])."""

# Baseline spline s(x) = G0 + G1*x + G2*v1(x) + G3*v2(x)
GAMMA = (-6.409, 2.643, -0.546, 0.585)
KNOT_MIN = 0.081
KNOTS_INTERIOR = (3.108, 3.638)
KNOT_MAX = 5.917


@dataclass(frozen=True)
class EncalsPredictors:
    """One patient's ENCALS inputs.

    ``diagnostic_delay_months`` is onset to diagnosis; ``delta_fs`` is the
    positive progression rate (48 - ALSFRS-R)/months since onset;
    ``fvc_percent`` is % predicted; the flags are 0/1.
    """

    age_at_onset: float
    diagnostic_delay_months: float
    delta_fs: float
    fvc_percent: float
    bulbar_onset: bool = False
    definite_als: bool = False
    ftd: bool = False
    c9orf72: bool = False


def linear_predictor(p: EncalsPredictors, model: EncalsCoefficients = ENCALS) -> float:
    """Linear predictor (higher = worse prognosis) after the model's transforms."""
    if p.age_at_onset <= 0:
        raise ValueError("age_at_onset must be > 0")
    if p.diagnostic_delay_months <= 0:
        raise ValueError("diagnostic_delay_months must be > 0 (it is log-transformed)")
    if p.delta_fs + 0.1 <= 0:
        raise ValueError("delta_fs must be > -0.1 (give the positive rate)")
    if p.fvc_percent <= 0:
        raise ValueError("fvc_percent must be > 0")
    vector = linear_predictor_vector(
        [p.age_at_onset],
        [p.diagnostic_delay_months],
        [p.delta_fs],
        [p.fvc_percent],
        [p.bulbar_onset],
        [p.definite_als],
        [p.ftd],
        [p.c9orf72],
        model=model,
    )
    return float(vector[0])


def _cube_plus(u: np.ndarray) -> np.ndarray:
    return np.where(u > 0, u, 0.0) ** 3


def baseline_spline(x: np.ndarray | float) -> np.ndarray:
    """s(x): restricted cubic spline baseline log-odds at x = ln(t months)."""
    x = np.asarray(x, dtype=float)
    span = KNOT_MAX - KNOT_MIN
    out = GAMMA[0] + GAMMA[1] * x
    for gamma, k in zip(GAMMA[2:], KNOTS_INTERIOR, strict=True):
        lam = (KNOT_MAX - k) / span
        v = _cube_plus(x - k) - lam * _cube_plus(x - KNOT_MIN) - (1 - lam) * _cube_plus(x - KNOT_MAX)
        out = out + gamma * v
    return out


def survival(t_months: np.ndarray | Sequence[float] | float, lp: float) -> np.ndarray:
    """S(t) = 1 / (1 + exp(s(ln t) + LP)); S(0) = 1."""
    t = np.atleast_1d(np.asarray(t_months, dtype=float))
    if np.any(t < 0):
        raise ValueError("t must be >= 0")
    out = np.ones_like(t)
    pos = t > 0
    out[pos] = 1.0 / (1.0 + np.exp(baseline_spline(np.log(t[pos])) + lp))
    return out


def cumulative_hazard(t_months: np.ndarray | Sequence[float] | float, lp: float) -> np.ndarray:
    """Λ(t) = -ln S(t) = ln(1 + exp(s(ln t) + LP)), computed stably."""
    t = np.atleast_1d(np.asarray(t_months, dtype=float))
    return cumulative_hazard_vector(t, np.full_like(t, lp))


def cumulative_hazard_vector(t_months: np.ndarray, lp: np.ndarray) -> np.ndarray:
    """Λ_i(t_i) for many patients at once (each with its own time and linear predictor)."""
    t = np.asarray(t_months, dtype=float)
    if np.any(t < 0):
        raise ValueError("t must be >= 0")
    out = np.zeros_like(t)
    pos = t > 0
    out[pos] = np.logaddexp(0.0, baseline_spline(np.log(t[pos])) + np.asarray(lp, dtype=float)[pos])
    return out


def linear_predictor_vector(
    age_at_onset: ArrayLike,
    diagnostic_delay_months: ArrayLike,
    delta_fs: ArrayLike,
    fvc_percent: ArrayLike,
    bulbar_onset: ArrayLike,
    definite_als: ArrayLike,
    ftd: ArrayLike,
    c9orf72: ArrayLike,
    model: EncalsCoefficients = ENCALS,
) -> np.ndarray:
    """`linear_predictor` for arrays of patients (same transforms, same validation)."""
    age, delay, dfs, fvc = (
        np.asarray(a, dtype=float) for a in (age_at_onset, diagnostic_delay_months, delta_fs, fvc_percent)
    )
    if np.any(age <= 0) or np.any(delay <= 0) or np.any(dfs + 0.1 <= 0) or np.any(fvc <= 0):
        raise ValueError("ENCALS predictors out of range (age, delay and FVC > 0; delta_fs > -0.1)")
    d = delay / 10
    f = fvc / 100
    return (
        model.slope * (dfs + 0.1) ** -0.5
        + model.delay * (d**-0.5 + np.log(d))
        + model.age * (age / 100) ** -2
        + model.fvc * (f**-1 + f**-0.5)
        + model.bulbar * np.asarray(bulbar_onset, dtype=float)
        + model.definite * np.asarray(definite_als, dtype=float)
        + model.ftd * np.asarray(ftd, dtype=float)
        + model.c9orf72 * np.asarray(c9orf72, dtype=float)
    )


def conditional_survival(
    t_months: np.ndarray | Sequence[float] | float, t_entry_months: float, lp: float
) -> np.ndarray:
    """S(t | alive at entry) = S(t) / S(t_entry) for t >= t_entry."""
    t = np.atleast_1d(np.asarray(t_months, dtype=float))
    if np.any(t < t_entry_months):
        raise ValueError("t must be >= t_entry")
    survival: np.ndarray = np.exp(-(cumulative_hazard(t, lp) - cumulative_hazard(t_entry_months, lp)))
    return survival


def expected_cumulative_hazard(entry_months: float, exit_months: float, lp: float) -> float:
    """Expected events between entry and exit: Λ(exit) - Λ(entry)."""
    if exit_months < entry_months:
        raise ValueError("exit must be >= entry")
    return float(cumulative_hazard(exit_months, lp)[0] - cumulative_hazard(entry_months, lp)[0])


def median_survival(lp: float) -> float:
    """Months from onset at which S = 0.5, i.e. s(ln t) + LP = 0."""

    # s is increasing in x over the model's range; bracket generously.
    def f(x: float) -> float:
        return float(baseline_spline(x)) + lp

    lo, hi = -5.0, 10.0
    if f(lo) > 0 or f(hi) < 0:
        return math.nan
    return float(math.exp(optimize.brentq(f, lo, hi, xtol=1e-12)))


def encals_smr(
    df: pd.DataFrame,
    entry_col: str,
    exit_col: str,
    event_col: str,
    lp_col: str,
    alpha: float = 0.05,
) -> SMRResult:
    """Observed vs ENCALS-expected composite events for a cohort.

    Times are months from symptom onset (divide days by DAYS_PER_MONTH).
    Each patient contributes Λ_i(exit) - Λ_i(entry), entry being the start
    of observation (e.g. IL-2 start), so expected events are conditional on
    having survived to entry. ``event_col`` must be the composite event.
    """
    require_columns(df, lp_col)
    exit_, event, entry = survival_arrays(df, exit_col, event_col, entry_col)
    assert entry is not None
    if df[lp_col].isna().any():
        raise ValueError(f"missing values in {lp_col}")
    lp = df[lp_col].to_numpy(dtype=float)
    if np.any(exit_ < entry):
        raise ValueError("exit must be >= entry")
    expected = float(np.sum(cumulative_hazard_vector(exit_, lp) - cumulative_hazard_vector(entry, lp)))
    result = smr_from_counts(
        observed=int(event.sum()),
        expected=float(expected),
        n=int(exit_.size),
        reference="ENCALS model",
        alpha=alpha,
        follow_up_total=float(np.sum(exit_ - entry)),
        rule="E_i = Λ_i(exit) - Λ_i(entry), months from onset",
    )
    return result.with_caveats(cv.ENCALS_UNVERIFIED, cv.LEFT_TRUNCATION)
