"""Cumulative incidence with competing events: the Aalen-Johansen estimator.

For tracheostomy or permanent ventilation, death is a competing event: a patient who dies can no
longer be ventilated, so 1 − KM (censoring deaths) overstates the incidence. The Aalen-Johansen
estimator F_k(t) = Σ_{s ≤ t} S(s−)·d_k(s)/n(s), with S the all-cause event-free KM, is what R
gives with ``survfit(Surv(time, factor(status)) ~ 1)``. Standard errors are R's infinitesimal
jackknife (see ``_influence``); intervals are R's default for multi-state curves, ``log``:
F·exp(±z·se/F), the upper limit capped at 1.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analytics.stats import caveats as cv
from analytics.stats._influence import aalen_johansen_ij
from analytics.stats._risk import _z
from analytics.stats._validation import require_columns
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin


@dataclass(frozen=True, eq=False)
class CIFAtTime:
    time: float
    cif: float
    se: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True, eq=False)
class CIFResult(ResultMixin):
    """Cumulative incidence of one cause. ``events`` counts that cause; ``competing_events`` the others.

    ``timeline`` has one row per distinct exit time: time, n_at_risk, events, cif, std_err,
    ci_lower, ci_upper (NaN while the incidence is 0, as R).
    """

    label: str
    cause: str
    n: int
    events: int
    competing_events: int
    timeline: pd.DataFrame
    at_times: tuple[CIFAtTime, ...]
    confidence_level: float
    caveats: tuple[Caveat, ...] = ()

    def cif_at(self, times: Sequence[float]) -> tuple[CIFAtTime, ...]:
        """Right-continuous lookup of the incidence and its CI at ``times``."""
        tl = self.timeline
        t_arr = tl["time"].to_numpy()
        out = []
        for t in times:
            k = int(np.searchsorted(t_arr, float(t), side="right")) - 1
            if k < 0:
                out.append(CIFAtTime(float(t), 0.0, 0.0, math.nan, math.nan))
                continue
            row = tl.iloc[k]
            out.append(
                CIFAtTime(
                    float(t), float(row["cif"]), float(row["std_err"]), float(row["ci_lower"]), float(row["ci_upper"])
                )
            )
        return tuple(out)


@dataclass(frozen=True, eq=False)
class CompetingRisksResult(ResultMixin):
    """One cumulative-incidence curve per cause, from the same data."""

    label: str
    n: int
    events: int
    curves: tuple[CIFResult, ...]
    caveats: tuple[Caveat, ...] = ()

    def curve(self, cause: Hashable) -> CIFResult:
        for c in self.curves:
            if c.cause == str(cause):
                return c
        raise KeyError(cause)


def _arrays(
    df: pd.DataFrame, duration_col: str, status_col: str, entry_col: str | None, weights_col: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    require_columns(df, duration_col, status_col, entry_col, weights_col)
    if len(df) == 0:
        raise ValueError("no rows to analyse")
    cols = [c for c in (duration_col, status_col, entry_col, weights_col) if c]
    if df[cols].isna().any().any():
        raise ValueError(f"missing values in {', '.join(c for c in cols if df[c].isna().any())}")
    exit_ = df[duration_col].to_numpy(dtype=float)
    if (exit_ < 0).any():
        raise ValueError(f"{duration_col} must be >= 0")
    entry = df[entry_col].to_numpy(dtype=float) if entry_col else None
    if entry is not None and ((entry < 0).any() or (entry >= exit_).any()):
        raise ValueError(f"need 0 <= {entry_col} < {duration_col} for every row")
    weights = df[weights_col].to_numpy(dtype=float) if weights_col else None
    if weights is not None and (weights <= 0).any():
        raise ValueError("weights must be > 0")
    return exit_, df[status_col].to_numpy(), entry, weights


def cumulative_incidence(
    df: pd.DataFrame,
    duration_col: str,
    status_col: str,
    censored: Hashable = 0,
    causes: Sequence[Hashable] | None = None,
    entry_col: str | None = None,
    weights_col: str | None = None,
    times: Sequence[float] = (),
    label: str = "all",
    alpha: float = 0.05,
) -> CompetingRisksResult:
    """Aalen-Johansen cumulative incidence of every cause in ``status_col``.

    ``status_col`` holds ``censored`` for censored rows and the cause otherwise (e.g.
    "ventilation", "death"). ``causes`` fixes the order of the curves (default: sorted); a
    value in the data that is neither censored nor a listed cause is an error, not dropped.
    """
    exit_, status, entry, weights = _arrays(df, duration_col, status_col, entry_col, weights_col)
    observed = sorted({s for s in pd.unique(status) if s != censored}, key=str)
    causes = list(causes) if causes is not None else observed
    unknown = [s for s in observed if s not in causes]
    if unknown:
        raise ValueError(f"status values neither censored nor a listed cause: {unknown}")
    any_event = (status != censored).astype(float)
    z = _z(alpha)
    curves = []
    for cause in causes:
        is_cause = (status == cause).astype(float)
        t, n_risk, dk, _, cif, var = aalen_johansen_ij(exit_, any_event, is_cause, entry, weights)
        se = np.sqrt(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            positive = cif > 0
            spread = np.where(positive, np.exp(z * se / np.where(positive, cif, 1.0)), np.nan)
            lower = np.where(positive, cif / spread, np.nan)
            upper = np.where(positive, np.minimum(cif * spread, 1.0), np.nan)
        timeline = pd.DataFrame(
            {
                "time": t,
                "n_at_risk": n_risk,
                "events": dk,
                "cif": cif,
                "std_err": se,
                "ci_lower": lower,
                "ci_upper": upper,
            }
        )
        curve = CIFResult(
            label=label,
            cause=str(cause),
            n=int(exit_.size),
            events=int(is_cause.sum()),
            competing_events=int(any_event.sum() - is_cause.sum()),
            timeline=timeline,
            at_times=(),
            confidence_level=1 - alpha,
        )
        curves.append(replace(curve, at_times=curve.cif_at(times)))
    result = CompetingRisksResult(label=label, n=int(exit_.size), events=int(any_event.sum()), curves=tuple(curves))
    if entry is not None:
        result = result.with_caveats(cv.LEFT_TRUNCATION)
    return result
