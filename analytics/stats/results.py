"""Shared plumbing for result objects: JSON-safe serialisation and caveats.

Results are frozen dataclasses so an analysis run stored in the database can
be re-rendered exactly; ``to_dict`` turns numpy scalars, NaN and DataFrames
into plain JSON types because results are persisted as JSON and shown in
templates.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd

from analytics.stats.caveats import Caveat, get_caveats


def jsonable(value: Any) -> Any:
    """Convert ``value`` into JSON-serialisable Python types.

    NaN and infinities become ``None`` because JSON has no representation for
    them and "not estimable" is what they mean in these results.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Private fields (raw input arrays kept for lookups) are not part of a result.
        return {
            f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")
        }
    if isinstance(value, pd.DataFrame):
        return _frame_records(value)
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records of a frame, column by column (fast for long KM timelines), NaN/inf as None."""
    columns: list[list[Any]] = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_bool_dtype(series):
            columns.append([bool(v) for v in series.tolist()])
        elif pd.api.types.is_numeric_dtype(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            native = series.tolist()
            finite = np.isfinite(values)
            columns.append([v if ok else None for v, ok in zip(native, finite, strict=True)])
        else:
            columns.append([jsonable(v) for v in series.tolist()])
    keys = [str(name) for name in frame.columns]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)] if len(frame) else []


class ResultMixin:
    """Behaviour shared by every result dataclass.

    Subclasses are frozen dataclasses with ``n``, ``events`` and a
    ``caveats`` tuple; the mixin supplies serialisation and caveat attachment.
    """

    caveats: tuple[Caveat, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of every field."""
        out = jsonable(self)
        assert isinstance(out, dict)
        return out

    def with_caveats(self, *codes: str) -> Self:
        """Return a copy with the named standard caveats appended (no duplicates)."""
        seen = {c.code for c in self.caveats}
        extra = []
        for c in get_caveats(*codes):
            if c.code not in seen:
                seen.add(c.code)
                extra.append(c)
        return dataclasses.replace(self, caveats=self.caveats + tuple(extra))  # type: ignore[type-var]
