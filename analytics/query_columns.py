"""What each column of a values_list queryset holds, read from its compiled select (used to type
the columns of `COPY (SELECT …)` output, analytics.selectors)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    import pandas as pd

#: How COPY … (FORMAT csv) writes NULL: an unquoted marker no value can take, so an empty
#: string stays an empty string rather than turning into a missing value.
COPY_NULL = "\\N"


def column_kinds(queryset: models.QuerySet[Any]) -> list[str]:
    """What each selected column holds: 'date', 'number' (decimal or float), 'text' or 'other'
    (integers and booleans, which read_csv types by itself)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    compiler.setup_query()
    kinds = []
    for expression, _sql, _alias in compiler.select:
        field = expression.output_field
        internal = field.get_internal_type()
        if internal == "DateField":
            kinds.append("date")
        elif internal in {"DecimalField", "FloatField"}:
            kinds.append("number")
        elif internal in {"CharField", "TextField", "SlugField", "EmailField"}:
            kinds.append("text")
        else:
            kinds.append("other")
    return kinds


def typed_frame(buffer: io.BytesIO, columns: list[str], kinds: list[str]) -> pd.DataFrame:
    """COPY's CSV output (NULL as `COPY_NULL`) parsed by pyarrow's CSV reader straight into typed
    columns (dates, floats, integers, booleans, text), then handed to pandas: about a third of
    the CPU of `pandas.read_csv` followed by `to_datetime`."""
    import pandas as pd  # heavy: imported when used (docs/benchmarks.md, start-up)
    import pyarrow as pa
    from pyarrow import csv

    if not buffer.tell():
        empty = {"date": "datetime64[ns]", "number": "float64"}
        return pd.DataFrame({n: pd.Series(dtype=empty.get(k, object)) for n, k in zip(columns, kinds, strict=True)})
    types = {"date": pa.timestamp("s"), "number": pa.float64(), "text": pa.string()}
    table = csv.read_csv(
        pa.py_buffer(buffer.getbuffer()),
        read_options=csv.ReadOptions(column_names=columns, use_threads=False),
        convert_options=csv.ConvertOptions(
            column_types={n: types[k] for n, k in zip(columns, kinds, strict=True) if k in types},
            null_values=[COPY_NULL],
            strings_can_be_null=True,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    frame = table.to_pandas(coerce_temporal_nanoseconds=True)
    for name, kind in zip(columns, kinds, strict=True):
        if kind == "other" and pa.types.is_null(table.schema.field(name).type):
            frame[name] = frame[name].astype("float64")  # all missing: NaN, as read_csv gives
    return frame
