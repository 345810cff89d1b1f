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
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return [{str(k): jsonable(v) for k, v in row.items()} for row in value.to_dict(orient="records")]
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
