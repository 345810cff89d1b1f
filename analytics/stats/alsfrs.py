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
    rows = []
    excluded_patients = 0
    excluded_visits = 0
    for pid, g in data.groupby(patient_col, sort=True):
        t = g[time_col].to_numpy(dtype=float)
        y = g[score_col].to_numpy(dtype=float)
        sxx = float(np.sum((t - t.mean()) ** 2)) if t.size else 0.0
        if t.size < 2 or sxx == 0:
            excluded_patients += 1
            excluded_visits += t.size
            continue
        slope = float(np.sum((t - t.mean()) * (y - y.mean())) / sxx)
        rows.append({"patient_id": pid, "n_visits": int(t.size), "span_months": float(np.ptp(t)), "slope": slope})
    per_patient = pd.DataFrame(rows, columns=["patient_id", "n_visits", "span_months", "slope"])
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
