"""Observed vs expected: exact Poisson intervals, SMR and the one-sample log-rank test."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import caveats as cv
from analytics.stats._validation import survival_arrays
from analytics.stats.benchmark_curve import ReferenceCurve
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin


def exact_poisson_ci(observed: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for a Poisson count.

    Uses chi-square quantiles: lower = chi2(alpha/2, 2O)/2 (0 when O = 0),
    upper = chi2(1 - alpha/2, 2O + 2)/2. Exact intervals matter here because
    registry cohorts often have few deaths.
    """
    if observed < 0:
        raise ValueError("observed count must be >= 0")
    lower = 0.0 if observed == 0 else float(stats.chi2.ppf(alpha / 2, 2 * observed) / 2)
    upper = float(stats.chi2.ppf(1 - alpha / 2, 2 * observed + 2) / 2)
    return lower, upper


def poisson_exact_p(observed: int, expected: float) -> float:
    """Two-sided exact Poisson p-value for O given mean E (R ``poisson.test``).

    Sums the probabilities of all counts no more likely than O, which is the
    rule R uses; doubling the smaller tail would differ from R.
    """
    m = float(expected)
    if m == 0:
        return 1.0 if observed == 0 else 0.0
    rel_err = 1 + 1e-7
    d = stats.poisson.pmf(observed, m)
    if observed == m:
        return 1.0
    if observed < m:
        n_hi = math.ceil(2 * m - observed)
        while stats.poisson.pmf(n_hi, m) > d:
            n_hi *= 2
        i = np.arange(math.ceil(m), n_hi + 1)
        y = int(np.sum(stats.poisson.pmf(i, m) <= d * rel_err))
        p = stats.poisson.cdf(observed, m) + stats.poisson.sf(n_hi - y, m)
    else:
        i = np.arange(0, math.floor(m) + 1)
        y = int(np.sum(stats.poisson.pmf(i, m) <= d * rel_err))
        p = stats.poisson.cdf(y - 1, m) + stats.poisson.sf(observed - 1, m)
    return float(min(1.0, p))


@dataclass(frozen=True, eq=False)
class SMRResult(ResultMixin):
    """Observed vs expected events: one-sample log-rank test and SMR = O/E.

    ``z`` = (O - E)/sqrt(E), ``chi2`` = z², ``p`` two-sided from chi2(1);
    ``p_exact`` is the two-sided exact Poisson p-value as R ``poisson.test``
    computes it, better when E is small. The SMR CI is the exact Garwood interval for
    O divided by E.
    """

    reference: str
    n: int
    events: int
    observed: int
    expected: float
    smr: float
    smr_ci_lower: float
    smr_ci_upper: float
    z: float
    chi2: float
    p: float
    p_exact: float
    confidence_level: float
    follow_up_total: float
    n_excluded: int = 0
    rule: str = ""
    caveats: tuple[Caveat, ...] = ()


def smr_from_counts(
    observed: int,
    expected: float,
    n: int,
    reference: str,
    alpha: float = 0.05,
    follow_up_total: float = math.nan,
    n_excluded: int = 0,
    rule: str = "",
) -> SMRResult:
    """Build an SMRResult from O and E (shared by benchmark and ENCALS SMRs)."""
    if not expected > 0:
        raise ValueError(
            "expected number of events is 0; check that the cohort's time scale overlaps the reference curve"
        )
    lo, hi = exact_poisson_ci(observed, alpha)
    z = (observed - expected) / math.sqrt(expected)
    chi2 = z * z
    p_exact = poisson_exact_p(observed, expected)
    result = SMRResult(
        reference=reference,
        n=n,
        events=observed,
        observed=observed,
        expected=float(expected),
        smr=observed / expected,
        smr_ci_lower=lo / expected,
        smr_ci_upper=hi / expected,
        z=z,
        chi2=chi2,
        p=float(stats.chi2.sf(chi2, 1)),
        p_exact=p_exact,
        confidence_level=1 - alpha,
        follow_up_total=float(follow_up_total),
        n_excluded=n_excluded,
        rule=rule,
    )
    result = result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING)
    if observed < 10 or n < 20:
        result = result.with_caveats(cv.SMALL_SAMPLE)
    return result


def one_sample_logrank(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    entry_col: str | None,
    benchmark: ReferenceCurve,
    alpha: float = 0.05,
) -> SMRResult:
    """One-sample log-rank test of a cohort against a benchmark curve.

    O = observed events; E = Σ [Λ_ref(exit) - Λ_ref(entry)] (Finkelstein et
    al. 2003), so a patient contributes expected deaths only while under
    observation. ``entry_col`` None means everyone is followed from time 0.
    Follow-up beyond the benchmark horizon is handled by
    ``benchmark.extrapolation`` (see BenchmarkCurve).
    """
    exit_, event, entry = survival_arrays(df, duration_col, event_col, entry_col)
    if entry is None:
        entry = np.zeros_like(exit_)
    n_excluded = 0
    if benchmark.extrapolation == "censor":
        keep = entry < benchmark.horizon
        n_excluded = int((~keep).sum())
        entry, exit_, event = entry[keep], exit_[keep], event[keep]
        event = np.where(exit_ > benchmark.horizon, 0, event)
        exit_ = np.minimum(exit_, benchmark.horizon)
    if exit_.size == 0:
        raise ValueError("no patients are under observation within the benchmark horizon")
    expected = float(np.sum(benchmark.cumulative_hazard(exit_) - benchmark.cumulative_hazard(entry)))
    rule = (
        f"interpolation={benchmark.interpolation}; extrapolation={benchmark.extrapolation}; "
        f"horizon={benchmark.horizon:g}"
    )
    result = smr_from_counts(
        observed=int(event.sum()),
        expected=expected,
        n=int(exit_.size),
        reference=benchmark.label,
        alpha=alpha,
        follow_up_total=float(np.sum(exit_ - entry)),
        n_excluded=n_excluded,
        rule=rule,
    )
    result = result.with_caveats(cv.benchmark_provenance_caveat(benchmark.provenance))
    if np.any(entry > 0):
        result = result.with_caveats(cv.LEFT_TRUNCATION)
    return result
