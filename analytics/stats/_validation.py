"""Input checks shared by the survival functions.

They fail loudly: a silently dropped row or a mis-coded event indicator
changes a survival estimate without anyone noticing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def require_columns(df: pd.DataFrame, *cols: str | None) -> None:
    """Raise KeyError naming every requested column missing from ``df``."""
    missing = [c for c in cols if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in data frame: {', '.join(missing)}")


def survival_arrays(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    entry_col: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return (exit, event, entry) float/int arrays after validating them.

    Rules: no missing values; durations >= 0; events coded 0/1 (or bool);
    with delayed entry, 0 <= entry < exit (as R's Surv(start, stop) demands,
    so a patient who dies on the day of entry needs a positive exit time).
    """
    require_columns(df, duration_col, event_col, entry_col)
    if len(df) == 0:
        raise ValueError("no rows to analyse")
    cols = [duration_col, event_col] + ([entry_col] if entry_col else [])
    if df[cols].isna().any().any():
        bad = [c for c in cols if df[c].isna().any()]
        raise ValueError(f"missing values in {', '.join(bad)}")
    exit_ = df[duration_col].to_numpy(dtype=float)
    raw_event = df[event_col].to_numpy()
    if not np.isin(raw_event.astype(float), (0.0, 1.0)).all():
        raise ValueError(f"{event_col} must be coded 0 (censored) or 1 (event)")
    event = raw_event.astype(int)
    if (exit_ < 0).any():
        raise ValueError(f"{duration_col} must be >= 0")
    entry = None
    if entry_col is not None:
        entry = df[entry_col].to_numpy(dtype=float)
        if (entry < 0).any():
            raise ValueError(f"{entry_col} must be >= 0")
        if (entry >= exit_).any():
            raise ValueError(f"{entry_col} must be strictly less than {duration_col} for every row")
    return exit_, event, entry
