"""Kaplan-Meier, log-rank, Cox and one-sample log-rank (SMR) analyses.

Pure functions: a pandas DataFrame in, a frozen result dataclass out. The
numbers are made to agree with R's ``survival`` package (see
``bench/r_reference``) because R is what reviewers and statisticians will
check the registry against.

Conventions used throughout:

* Times are in whatever unit the caller uses; nothing is converted.
* Risk sets follow the counting-process rule of R's ``Surv(start, stop)``: a
  patient is at risk at time t when ``entry < t <= exit``. Without an entry
  column everyone is at risk from the origin.
* Confidence intervals default to 95% (``alpha=0.05``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats import caveats as cv
from analytics.stats._validation import require_columns, survival_arrays
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin

# ----------------------------------------------------------------- helpers --


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    return float(stats.norm.ppf(1 - alpha / 2))


def _at_risk(entry: np.ndarray | None, exit_: np.ndarray, t: float) -> int:
    """Number at risk at ``t``: entry < t <= exit.

    At t <= 0 a patient whose entry is at the origin counts as at risk, so a
    risk table starting at 0 shows everyone observed from the start.
    """
    if entry is None:
        return int(np.sum(exit_ >= t))
    entered = entry < t if t > 0 else entry <= t
    return int(np.sum(entered & (exit_ >= t)))


def _risk_counts(entry: np.ndarray | None, exit_: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Vectorised entry < t <= exit counts at positive ``times`` (event times)."""
    n = exit_.size
    counts = n - np.searchsorted(np.sort(exit_), times, side="left")
    if entry is not None:
        # entry < exit always, so everyone with entry >= t also has exit >= t
        counts = counts - (n - np.searchsorted(np.sort(entry), times, side="left"))
    return counts


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


# ------------------------------------------------------------ Kaplan-Meier --


@dataclass(frozen=True, eq=False)
class SurvivalAtTime:
    """KM survival read off at a chosen time (e.g. 365 or 640 days).

    ``estimable`` is False beyond the last observed time, where KM says
    nothing (unless survival has already reached 0); survival and CI are
    then NaN (None in JSON).
    """

    time: float
    survival: float
    ci_lower: float
    ci_upper: float
    n_at_risk: int
    estimable: bool


@dataclass(frozen=True, eq=False)
class KMResult(ResultMixin):
    """Kaplan-Meier estimate with Greenwood log(-log) 95% CIs (R conf.type="log-log").

    ``timeline`` has one row per distinct exit time with columns time,
    n_at_risk, events, censored, survival, ci_lower, ci_upper. CIs are
    (1, 1) while survival is 1 (zero variance; R reports NA there) and NaN
    once survival reaches 0.
    """

    label: str
    n: int
    events: int
    timeline: pd.DataFrame
    median: float
    median_ci_lower: float
    median_ci_upper: float
    at_times: tuple[SurvivalAtTime, ...]
    risk_table: tuple[tuple[float, int], ...]
    confidence_level: float
    left_truncated: bool
    caveats: tuple[Caveat, ...] = ()
    _entry: np.ndarray | None = field(default=None, repr=False)
    _exit: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out.pop("_entry", None)
        out.pop("_exit", None)
        return out

    def survival_at(self, times: Sequence[float]) -> tuple[SurvivalAtTime, ...]:
        """Right-continuous step-function lookup of survival and CI at ``times``."""
        tl = self.timeline
        t_arr = tl["time"].to_numpy()
        last = float(t_arr[-1]) if len(t_arr) else 0.0
        out = []
        for t in times:
            t = float(t)
            n_risk = _at_risk(self._entry, self._exit, t) if self._exit is not None else 0
            if t > last:
                if len(t_arr) and tl["survival"].iloc[-1] == 0:  # everyone has died
                    out.append(SurvivalAtTime(t, 0.0, math.nan, math.nan, n_risk, True))
                else:
                    out.append(SurvivalAtTime(t, math.nan, math.nan, math.nan, n_risk, False))
                continue
            idx = int(np.searchsorted(t_arr, t, side="right")) - 1
            if idx < 0:
                out.append(SurvivalAtTime(t, 1.0, 1.0, 1.0, n_risk, True))
                continue
            row = tl.iloc[idx]
            out.append(
                SurvivalAtTime(
                    t,
                    float(row["survival"]),
                    float(row["ci_lower"]),
                    float(row["ci_upper"]),
                    n_risk,
                    True,
                )
            )
        return tuple(out)

    def n_at_risk_at(self, times: Sequence[float]) -> tuple[tuple[float, int], ...]:
        """Numbers at risk (entry < t <= exit) for a risk table under a plot."""
        if self._exit is None:
            raise ValueError("result was built without the raw data")
        return tuple((float(t), _at_risk(self._entry, self._exit, float(t))) for t in times)


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """Port of survival:::findq, R's rule for reading a quantile off a curve.

    ``y`` is the cumulative distribution 1 - S. The quantile is the first
    time where y >= p; if y equals p (within tol) on a flat stretch, the
    midpoint of that stretch is returned, as R does.
    """
    finite = y[~np.isnan(y)]
    if finite.size == 0 or finite.max() < p:
        return math.nan
    xmax = x[-1]
    _, first = np.unique(y, return_index=True)  # NaN sorts last, one kept
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]

    def first_at_least(vals: np.ndarray) -> int | None:
        hits = np.nonzero(vals >= p)[0]
        return int(hits[0]) if hits.size else None

    i1 = first_at_least(y + tol)
    i2 = first_at_least(y - tol)
    if abs(p - y[-1]) < tol and i1 is not None:
        return float((x[i1] + xmax) / 2)
    if i1 is None or i2 is None:
        return math.nan
    return float((x[i1] + x[i2]) / 2)


def kaplan_meier(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    entry_col: str | None = None,
    label: str = "all",
    times: Sequence[float] = (),
    risk_times: Sequence[float] = (),
    alpha: float = 0.05,
) -> KMResult:
    """Kaplan-Meier survival with Greenwood-based log(-log) confidence intervals.

    Agrees with R ``survfit(Surv([entry,] exit, event) ~ 1, conf.type="log-log")``
    including the median and its CI (R's quantile rule). ``entry_col`` gives
    left truncation: patients join the risk set only after entry.
    ``times`` lists times at which survival is reported (e.g. 365, 640 days);
    ``risk_times`` lists times for the numbers-at-risk table.
    """
    exit_, event, entry = survival_arrays(df, duration_col, event_col, entry_col)
    z = _z(alpha)
    t_unique = np.unique(exit_)
    n_risk = _risk_counts(entry, exit_, t_unique).astype(float)
    # events / censorings at each distinct time
    idx = np.searchsorted(t_unique, exit_)
    d = np.bincount(idx, weights=event, minlength=t_unique.size)
    c = np.bincount(idx, weights=1 - event, minlength=t_unique.size)

    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n_risk)
        gw_terms = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
        greenwood = np.cumsum(gw_terms)
        se = np.sqrt(greenwood)
        log_s = np.log(surv)
        core = np.log(-log_s)
        half = z * se / log_s  # negative, as in R's survfit_confint
        lower = np.exp(-np.exp(core - half))
        upper = np.exp(-np.exp(core + half))
    at_one = surv >= 1.0
    lower[at_one] = 1.0
    upper[at_one] = 1.0
    at_zero = surv <= 0.0
    lower[at_zero] = math.nan
    upper[at_zero] = math.nan
    surv[at_zero] = 0.0

    timeline = pd.DataFrame(
        {
            "time": t_unique,
            "n_at_risk": n_risk.astype(int),
            "events": d.astype(int),
            "censored": c.astype(int),
            "survival": surv,
            "ci_lower": lower,
            "ci_upper": upper,
        }
    )
    tol = math.sqrt(np.finfo(float).eps)
    x = np.concatenate([[0.0], t_unique])
    median = _findq(x, np.concatenate([[0.0], 1 - surv]), 0.5, tol)
    med_lo = _findq(x, np.concatenate([[0.0], 1 - lower]), 0.5, tol)
    med_hi = _findq(x, np.concatenate([[0.0], 1 - upper]), 0.5, tol)

    result = KMResult(
        label=label,
        n=int(exit_.size),
        events=int(event.sum()),
        timeline=timeline,
        median=median,
        median_ci_lower=med_lo,
        median_ci_upper=med_hi,
        at_times=(),
        risk_table=(),
        confidence_level=1 - alpha,
        left_truncated=entry is not None,
        _entry=entry,
        _exit=exit_,
    )
    result = replace(
        result,
        at_times=result.survival_at(times),
        risk_table=result.n_at_risk_at(risk_times),
    )
    if entry is not None:
        result = result.with_caveats(cv.LEFT_TRUNCATION)
    return result


# ---------------------------------------------------------------- log-rank --


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


# --------------------------------------------------------------------- Cox --

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


def _stratum_ids(df: pd.DataFrame, strata: Sequence[str]) -> np.ndarray:
    if not strata:
        return np.zeros(len(df), dtype=int)
    return df.groupby(list(strata), sort=True, dropna=False).ngroup().to_numpy()


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
        return stats.rankdata(death_times)
    if transform == "identity":
        return death_times.astype(float)
    if transform == "log":
        return np.log(death_times)
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
    score count 1/2. Unlike lifelines it honours delayed entry. Computed per
    distinct death time with a histogram of score ranks over the comparable set.
    """
    if strata is None:
        strata = np.zeros(exit_.size, dtype=int)
    ranks = np.unique(lp, return_inverse=True)[1]
    n_ranks = int(ranks.max()) + 1 if ranks.size else 0
    num = 0.0
    den = 0.0
    for s in np.unique(strata):
        in_s = strata == s
        ex, ev, rk = exit_[in_s], event[in_s], ranks[in_s]
        en = entry[in_s] if entry is not None else None
        for t in np.unique(ex[ev == 1]):
            dies_now = (ex == t) & (ev == 1)
            comp = (ex >= t) & ~dies_now
            if en is not None:
                comp &= en < t
            if not comp.any():
                continue
            counts = np.bincount(rk[comp], minlength=n_ranks)
            below = np.concatenate([[0], np.cumsum(counts)])  # below[r] = # comparable with rank < r
            dying = rk[dies_now]
            num += float(np.sum(below[dying]) + 0.5 * np.sum(counts[dying]))
            den += float(comp.sum()) * dying.size
    return float(num / den) if den else math.nan


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
) -> CoxResult:
    """Fit a Cox model (lifelines, Efron ties) and test proportional hazards.

    Agrees with R ``coxph(..., ties = "efron")``. Covariates must be numeric
    (dummy-code categories first) so the reference level is explicit. Rows
    with a missing covariate are dropped and counted, as R's na.omit.
    The PH test (``PHTest``) is skipped (None) for weighted or robust fits,
    where the Grambsch-Therneau approximation is not defined here.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

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
    fitter = CoxPHFitter(penalizer=0.0, alpha=alpha)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
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

    z = _z(alpha)
    beta = fitter.params_.loc[covariates].to_numpy()
    se = fitter.standard_errors_.loc[covariates].to_numpy()
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
    x = data[covariates].to_numpy()
    lp = x @ beta
    strata_ids = _stratum_ids(data, strata)
    ph = None
    if weights_col is None and not robust:
        var = fitter.variance_matrix_.loc[covariates, covariates].to_numpy()
        resid, dtimes = _schoenfeld_efron(x, lp, exit_, event, entry, strata_ids)
        ph = _ph_test(resid, dtimes, beta, var, covariates, ph_transform, exit_, event, entry)
    lr = fitter.log_likelihood_ratio_test()
    result = CoxResult(
        terms=terms,
        n=len(data),
        events=int(event.sum()),
        n_excluded_missing=int(n_missing),
        concordance=concordance_index(lp, exit_, event, entry, strata_ids),
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


# ------------------------------------------- one-sample log-rank and SMR --

Interpolation = Literal["step", "linear", "log-linear"]
Extrapolation = Literal["refuse", "censor", "last_hazard"]


class BenchmarkRangeError(ValueError):
    """Follow-up extends beyond the benchmark curve and extrapolation='refuse'."""


@dataclass(frozen=True, eq=False)
class BenchmarkCurve:
    """A reference survival curve given as (t, S) points, e.g. a trial arm.

    ``interpolation`` between points:
      * "step": S stays at the last point until the next (a KM curve);
      * "linear": S is joined linearly (a digitised curve drawn as lines);
      * "log-linear": the cumulative hazard -ln S is joined linearly, i.e.
        a constant hazard within each interval (piecewise exponential).
    ``extrapolation`` beyond the last point (the horizon):
      * "refuse" (default): raise BenchmarkRangeError, because the curve
        says nothing about risk after its horizon;
      * "censor": administratively censor follow-up at the horizon (events
        after it are not counted, patients entering after it are excluded);
      * "last_hazard": carry forward the average hazard of the last interval,
        (Λ_K - Λ_{K-1}) / (t_K - t_{K-1}); a flat final segment therefore
        predicts no further deaths.
    A point (0, 1) is prepended when the first time is after 0. The time
    origin must match the cohort's (e.g. MIROCALS counts from randomisation).
    """

    times: tuple[float, ...]
    survival: tuple[float, ...]
    interpolation: Interpolation = "step"
    extrapolation: Extrapolation = "refuse"
    label: str = "benchmark"
    provenance: str = "unconfirmed"
    source: str = ""

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=float)
        s = np.asarray(self.survival, dtype=float)
        if t.ndim != 1 or t.size != s.size or t.size == 0:
            raise ValueError("times and survival must be 1-d and of equal, non-zero length")
        if np.isnan(t).any() or np.isnan(s).any():
            raise ValueError("benchmark points must not be NaN")
        if t[0] < 0 or np.any(np.diff(t) <= 0):
            raise ValueError("benchmark times must be >= 0 and strictly increasing")
        if np.any(s <= 0) or np.any(s > 1):
            raise ValueError("benchmark survival must be in (0, 1]; S = 0 has infinite hazard")
        if np.any(np.diff(s) > 0):
            raise ValueError("benchmark survival must be non-increasing")
        if self.interpolation not in ("step", "linear", "log-linear"):
            raise ValueError(f"unknown interpolation {self.interpolation!r}")
        if self.extrapolation not in ("refuse", "censor", "last_hazard"):
            raise ValueError(f"unknown extrapolation {self.extrapolation!r}")
        cv.benchmark_provenance_caveat(self.provenance)  # validates the tag
        if t[0] > 0:
            t = np.concatenate([[0.0], t])
            s = np.concatenate([[1.0], s])
        if self.extrapolation == "last_hazard" and t.size < 2:
            raise ValueError("'last_hazard' extrapolation needs at least two points")
        object.__setattr__(self, "times", tuple(float(v) for v in t))
        object.__setattr__(self, "survival", tuple(float(v) for v in s))

    @classmethod
    def from_km(
        cls,
        km: KMResult,
        interpolation: Interpolation = "step",
        extrapolation: Extrapolation = "refuse",
        label: str | None = None,
        provenance: str = "unconfirmed",
        source: str = "",
    ) -> BenchmarkCurve:
        """Benchmark from a KM fit (e.g. of Guyot pseudo-IPD).

        Uses the survival after each event time; the curve ends at the last
        time with S > 0 (a KM curve that reaches 0 has infinite hazard).
        """
        tl = km.timeline
        pts = tl[(tl["events"] > 0) & (tl["survival"] > 0)]
        times = tuple(float(v) for v in pts["time"])
        surv = tuple(float(v) for v in pts["survival"])
        last_time = float(tl["time"].iloc[-1])
        if tl["survival"].iloc[-1] > 0 and (not times or last_time > times[-1]):
            times += (last_time,)
            surv += (float(tl["survival"].iloc[-1]),)
        if not times:
            times, surv = (last_time,), (1.0,)
        return cls(
            times=times,
            survival=surv,
            interpolation=interpolation,
            extrapolation=extrapolation,
            label=km.label if label is None else label,
            provenance=provenance,
            source=source,
        )

    @property
    def horizon(self) -> float:
        """Last benchmark time; beyond it the extrapolation rule applies."""
        return self.times[-1]

    @property
    def last_hazard(self) -> float:
        """Average hazard over the final interval (used by 'last_hazard')."""
        t = np.asarray(self.times)
        cumhaz = -np.log(np.asarray(self.survival))
        if t.size < 2:
            return math.nan
        return float((cumhaz[-1] - cumhaz[-2]) / (t[-1] - t[-2]))

    def cumulative_hazard(self, t: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """Λ(t) = -ln S(t) under the chosen interpolation and extrapolation."""
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(tt < 0):
            raise ValueError("times must be >= 0")
        bt = np.asarray(self.times)
        bs = np.asarray(self.survival)
        cumhaz_pts = -np.log(bs)
        beyond = tt > self.horizon
        if beyond.any() and self.extrapolation == "refuse":
            raise BenchmarkRangeError(
                f"time {tt[beyond].max():g} is beyond the benchmark horizon "
                f"{self.horizon:g}; use extrapolation='censor' or 'last_hazard'"
            )
        inside = np.minimum(tt, self.horizon)
        if self.interpolation == "step":
            idx = np.searchsorted(bt, inside, side="right") - 1
            out = np.where(idx >= 0, cumhaz_pts[np.maximum(idx, 0)], 0.0)
        elif self.interpolation == "linear":
            out = -np.log(np.interp(inside, bt, bs, left=1.0))
        else:
            out = np.interp(inside, bt, cumhaz_pts, left=0.0)
        if self.extrapolation == "last_hazard":
            out = out + np.where(beyond, self.last_hazard * (tt - self.horizon), 0.0)
        return out

    def survival_at(self, t: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """S(t) = exp(-Λ(t))."""
        return np.exp(-self.cumulative_hazard(t))


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
    benchmark: BenchmarkCurve,
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
