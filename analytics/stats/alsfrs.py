"""ALSFRS-R progression as per-patient least-squares slopes.

A two-stage summary (slope per patient, then the mean of slopes) is what
trial reports quote ("points per month") and needs no mixed-model software.
It weights every patient equally regardless of how many visits they had,
which is stated in the result so nobody mistakes it for a mixed model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats._validation import require_columns
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin


@dataclass(frozen=True, eq=False)
class AlsfrsSlopeResult(ResultMixin):
    """Cohort ALSFRS-R slope (points per month; negative means decline).

    ``n`` is the number of patients with a slope; ``events`` is None (no
    events in this analysis, kept so every result has the same shape).
    The CI is a t interval for the mean of per-patient slopes.
    ``per_patient`` has columns patient_id, n_visits, span_months, slope.
    """

    n: int
    events: None
    n_visits: int
    n_excluded_patients: int
    n_excluded_visits: int
    mean_slope: float
    ci_lower: float
    ci_upper: float
    sd: float
    median_slope: float
    confidence_level: float
    per_patient: pd.DataFrame
    method: str = "two-stage: OLS slope per patient, then mean with t-based CI"
    caveats: tuple[Caveat, ...] = ()


def alsfrs_slope(
    df: pd.DataFrame,
    patient_col: str = "patient_id",
    time_col: str = "months",
    score_col: str = "total",
    alpha: float = 0.05,
) -> AlsfrsSlopeResult:
    """Per-patient OLS slope of ALSFRS-R total per month, and the cohort mean.

    Patients with fewer than two visits, or with all visits at one time
    (slope undefined), are excluded and counted in ``n_excluded_*``. Rows
    with a missing time or score are ignored. Totals must lie in 0-48.
    """
    require_columns(df, patient_col, time_col, score_col)
    data = df[[patient_col, time_col, score_col]].dropna()
    scores = data[score_col].to_numpy(dtype=float)
    if ((scores < 0) | (scores > 48)).any():
        raise ValueError("ALSFRS-R totals must be between 0 and 48")
    # Per-patient OLS from grouped sums (vectorised: one pass, no Python loop per patient).
    t = data[time_col].to_numpy(dtype=float)
    grouped = pd.DataFrame({"pid": data[patient_col].to_numpy(), "t": t, "y": data[score_col].to_numpy(dtype=float)})
    sums = (
        grouped.assign(tt=t * t, ty=t * grouped["y"])
        .groupby("pid", sort=True)
        .agg(
            n_visits=("t", "size"),
            st=("t", "sum"),
            sy=("y", "sum"),
            stt=("tt", "sum"),
            sty=("ty", "sum"),
            t_min=("t", "min"),
            t_max=("t", "max"),
        )
    )
    n_visits = sums["n_visits"].to_numpy(dtype=float)
    sxx = sums["stt"].to_numpy() - sums["st"].to_numpy() ** 2 / n_visits
    sxy = sums["sty"].to_numpy() - sums["st"].to_numpy() * sums["sy"].to_numpy() / n_visits
    # Relative tolerance: a patient whose visits all share one time has sxx ~ rounding error.
    usable = (n_visits >= 2) & (sums["t_max"].to_numpy() > sums["t_min"].to_numpy())
    excluded_patients = int((~usable).sum())
    excluded_visits = int(n_visits[~usable].sum())
    per_patient = pd.DataFrame(
        {
            "patient_id": sums.index[usable],
            "n_visits": sums["n_visits"].to_numpy()[usable].astype(int),
            "span_months": (sums["t_max"] - sums["t_min"]).to_numpy()[usable],
            "slope": sxy[usable] / sxx[usable],
        }
    )
    slopes = per_patient["slope"].to_numpy(dtype=float)
    n = int(slopes.size)
    mean = float(slopes.mean()) if n else math.nan
    sd = float(slopes.std(ddof=1)) if n > 1 else math.nan
    if n > 1:
        half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)
        lo, hi = mean - half, mean + half
    else:
        lo = hi = math.nan
    return AlsfrsSlopeResult(
        n=n,
        events=None,
        n_visits=int(per_patient["n_visits"].sum()) if n else 0,
        n_excluded_patients=excluded_patients,
        n_excluded_visits=excluded_visits,
        mean_slope=mean,
        ci_lower=lo,
        ci_upper=hi,
        sd=sd,
        median_slope=float(np.median(slopes)) if n else math.nan,
        confidence_level=1 - alpha,
        per_patient=per_patient,
    )
