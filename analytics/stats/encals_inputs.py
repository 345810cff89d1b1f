"""ENCALS predictors from registry columns: unknown is missing, never negative.

The model needs eight predictors at diagnosis (domain.md §4). A recorded "unknown" for FTD or
C9orf72, like an empty field, is *missing*: coding it as negative would lower the linear
predictor, the expected count, and so inflate the O/E against the treatment. This module maps
the registry's categories to 0/1/missing, counts per predictor how many patients lacked it (and
why) and gives two linear predictors for patients whose only gaps are yes/no predictors: with
every missing flag at 0 (lowest risk, all flag coefficients are positive) and at 1 (highest),
so the report can bound the O/E instead of guessing.

Composite endpoint: the model counts death, tracheostomy or NIV > 23 h/day
(``ENCALS_VENTILATION_HOURS_PER_DAY``); the trial-style "permanent ventilation" the registry
records is NIV > 22 h/day (``TRIAL_VENTILATION_HOURS_PER_DAY``), a named parameter, never a
silent substitute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.stats import caveats as cv
from analytics.stats._validation import require_columns
from analytics.stats.caveats import Caveat
from analytics.stats.encals import ENCALS, EncalsCoefficients, linear_predictor_vector
from analytics.stats.results import ResultMixin

ENCALS_VENTILATION_HOURS_PER_DAY = 23
"""The ENCALS composite: death, tracheostomy or NIV for more than 23 hours a day."""
TRIAL_VENTILATION_HOURS_PER_DAY = 22
"""The registry's permanent-ventilation event: NIV for more than 22 hours a day for more than 7 days."""

CONTINUOUS = ("age_at_onset", "diagnostic_delay_months", "delta_fs", "fvc_percent")
FLAGS = ("bulbar_onset", "definite_als", "ftd", "c9orf72")
DEFAULT_COLUMNS: dict[str, str] = {
    "age_at_onset": "age_at_onset",
    "diagnostic_delay_months": "diagnostic_delay_months",
    "delta_fs": "dfs_diagnosis",
    "fvc_percent": "fvc_diagnosis",
    "bulbar_onset": "bulbar_onset",
    "definite_als": "el_escorial",
    "ftd": "ftd",
    "c9orf72": "c9orf72",
}
"""Predictor -> column of the analysis dataset (docs/dataset.md)."""
_CODES: dict[str, dict[object, float]] = {
    "bulbar_onset": {True: 1.0, False: 0.0, "true": 1.0, "false": 0.0},  # 1/0 hash as True/False
    "definite_als": {"definite": 1.0, "probable": 0.0, "probable_lab_supported": 0.0, "possible": 0.0},
    "ftd": {"yes": 1.0, "no": 0.0},
    "c9orf72": {"positive": 1.0, "negative": 0.0},
}
_LOWER_BOUNDS = {"age_at_onset": 0.0, "diagnostic_delay_months": 0.0, "delta_fs": -0.1, "fvc_percent": 0.0}


@dataclass(frozen=True, eq=False)
class PredictorMissingness:
    """How many patients lacked one predictor: empty, recorded as unknown, or out of the model's range."""

    predictor: str
    column: str
    empty: int
    unknown: int
    out_of_range: int

    @property
    def missing(self) -> int:
        return self.empty + self.unknown + self.out_of_range


@dataclass(frozen=True, eq=False)
class EncalsInputs(ResultMixin):
    """Mapped predictors and linear predictors; ``frame`` is aligned with the input rows.

    ``frame`` columns: the eight predictors (NaN = missing), ``lp`` (all eight known),
    ``lp_low``/``lp_high`` (the four continuous ones known; missing flags at 0 / at 1).
    """

    n: int
    events: None
    complete: int
    flags_only_missing: int
    continuous_missing: int
    missingness: tuple[PredictorMissingness, ...]
    handling: str
    model: str
    caveats: tuple[Caveat, ...] = ()
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        assert self._frame is not None
        return self._frame


def _flag(series: pd.Series, predictor: str) -> tuple[pd.Series, int, int]:
    """0/1/NaN from a category column, and the counts of empty and 'unknown' entries."""
    codes = _CODES[predictor]
    raw = series.astype(object).where(series.notna(), None)
    normal = raw.map(lambda v: v.strip().lower() if isinstance(v, str) else v)
    empty = normal.isna() | (normal == "")
    mapped = normal.map(lambda v: codes.get(v, np.nan) if v is not None else np.nan).astype(float)
    unknown = ~empty & mapped.isna()
    return mapped, int(empty.sum()), int(unknown.sum())


def encals_inputs(
    df: pd.DataFrame, columns: Mapping[str, str] | None = None, model: EncalsCoefficients = ENCALS
) -> EncalsInputs:
    """Map the dataset's columns to ENCALS predictors, count what is missing, compute the LPs."""
    columns = {**DEFAULT_COLUMNS, **(columns or {})}
    require_columns(df, *columns.values())
    out = pd.DataFrame(index=df.index)
    rows = []
    for predictor in CONTINUOUS:
        values = pd.to_numeric(df[columns[predictor]], errors="coerce").astype(float)
        empty = int(values.isna().sum())
        bad = values.notna() & (values <= _LOWER_BOUNDS[predictor])
        out[predictor] = values.where(~bad)
        rows.append(PredictorMissingness(predictor, columns[predictor], empty, 0, int(bad.sum())))
    for predictor in FLAGS:
        mapped, empty, unknown = _flag(df[columns[predictor]], predictor)
        out[predictor] = mapped
        rows.append(PredictorMissingness(predictor, columns[predictor], empty, unknown, 0))
    cont_ok = out[list(CONTINUOUS)].notna().all(axis=1)
    flags_ok = out[list(FLAGS)].notna().all(axis=1)
    out["lp"] = np.nan
    out["lp_low"] = np.nan
    out["lp_high"] = np.nan
    if cont_ok.any():
        base = out.loc[cont_ok]
        age, delay, dfs, fvc = (base[c].to_numpy() for c in CONTINUOUS)
        for name, fill in (("lp_low", 0.0), ("lp_high", 1.0)):
            bulbar, definite, ftd, c9 = (base[f].fillna(fill).to_numpy() for f in FLAGS)
            out.loc[cont_ok, name] = linear_predictor_vector(
                age, delay, dfs, fvc, bulbar, definite, ftd, c9, model=model
            )
        out.loc[cont_ok & flags_ok, "lp"] = out.loc[cont_ok & flags_ok, "lp_low"]
    result = EncalsInputs(
        n=len(df),
        events=None,
        complete=int((cont_ok & flags_ok).sum()),
        flags_only_missing=int((cont_ok & ~flags_ok).sum()),
        continuous_missing=int((~cont_ok).sum()),
        missingness=tuple(rows),
        handling=(
            "Primary O/E: patients with all eight predictors (complete case). Patients missing only yes/no "
            "predictors are added in a sensitivity analysis that bounds their expected count (flags at 0, then "
            "at 1). Patients missing age, diagnostic delay, ΔFS or FVC are excluded and counted."
        ),
        model=model.name,
        _frame=out,
    )
    missing_any = result.flags_only_missing + result.continuous_missing
    return result.with_caveats(cv.ENCALS_MISSING_PREDICTORS) if missing_any else result
