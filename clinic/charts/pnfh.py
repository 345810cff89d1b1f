"""CSF pNFH over time against the MIROCALS strata, as inline SVG on the server.

The strata come from `registry.constants` (below 750 pg/mL: outside the trial's strata; low
750-3700; high > 3700, a value of exactly 3700 being low), drawn as three shaded, labelled
bands. Values span more than a decade between patients, so the y axis is logarithmic, from
the decade below the lowest value (at most 100) to the decade above the highest (at least
10,000); the band edges are labelled on the axis. The bands differ by pattern as well as by
shade, so they read in grey print and without colour.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from django.utils.safestring import SafeString, mark_safe

from clinic.charts.axis import (
    LEFT,
    PLOT_WIDTH,
    RIGHT,
    WIDTH,
    TimeScale,
    death_marker,
    grid_line,
    line,
    panel_title,
    svg_open,
    time_axis,
)
from registry.constants import PNFH_HIGH_ABOVE, PNFH_LOW_FROM
from registry.models import BiomarkerResult

HEIGHT = 250
TOP, BOTTOM = 24, 210
POINT_COLOUR = "#1b1b1b"

#: Band fills: a tint and a pattern each (the pattern ids are defined in the SVG's <defs>).
_DEFS = (
    "<defs>"
    '<pattern id="pnfh-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="8" height="8" fill="#fbe3d6"/><line x1="0" y1="0" x2="0" y2="8" stroke="#e9b79c" stroke-width="2"/>'
    "</pattern>"
    '<pattern id="pnfh-dots" width="8" height="8" patternUnits="userSpaceOnUse">'
    '<rect width="8" height="8" fill="#f1f1f1"/><circle cx="4" cy="4" r="1" fill="#bdbdbd"/>'
    "</pattern>"
    "</defs>"
)


class LogScale:
    """pNFH (pg/mL) to y, logarithmic between two powers of ten."""

    def __init__(self, values: Sequence[float]) -> None:
        low = min([*values, 100.0])
        high = max([*values, 10_000.0])
        self.low = 10 ** math.floor(math.log10(max(low, 1.0)))
        self.high = 10 ** math.ceil(math.log10(high))

    def y(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        share = (math.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        return BOTTOM - share * (BOTTOM - TOP)

    def decades(self) -> list[int]:
        return [10**power for power in range(round(math.log10(self.low)), round(math.log10(self.high)) + 1)]


def _bands(parts: list[str], scale: LogScale) -> None:
    """The three strata as shaded rectangles, labelled in the right margin."""
    low_edge, high_edge = scale.y(PNFH_LOW_FROM), scale.y(PNFH_HIGH_ABOVE)
    bands = (
        ("high", TOP, high_edge, "url(#pnfh-hatch)", "High", "> 3700 pg/mL"),
        ("low", high_edge, low_edge, "#d9ecf7", "Low", "750–3700 pg/mL"),
        ("below", low_edge, BOTTOM, "url(#pnfh-dots)", "Below 750", "outside the trial strata"),
    )
    for name, top, bottom, fill, label, detail in bands:
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{PLOT_WIDTH}" height="{bottom - top:.1f}" fill="{fill}" '
            f'data-band="{name}"/>'
        )
        middle = (top + bottom) / 2
        parts.append(f'<text x="{WIDTH - RIGHT + 14}" y="{middle:.1f}" class="legend">{label}</text>')
        parts.append(f'<text x="{WIDTH - RIGHT + 14}" y="{middle + 15:.1f}" class="tick">{detail}</text>')
    for edge, value in ((high_edge, PNFH_HIGH_ABOVE), (low_edge, PNFH_LOW_FROM)):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{edge:.1f}" y2="{edge:.1f}" stroke="#555" '
            f'stroke-dasharray="6 3" data-edge="{value}"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{edge + 4:.1f}" text-anchor="end" class="tick">{value}</text>')


def pnfh_chart(
    results: Sequence[BiomarkerResult],
    scale: TimeScale,
    title_id: str = "pnfh-chart-title",
    *,
    died_on: dt.date | None = None,
) -> SafeString:
    """SVG of the CSF pNFH results (canonical pg/mL) in date order; empty when there are none."""
    if not results:
        return mark_safe("")
    ordered = sorted(results, key=lambda r: r.sample_date)
    values = [float(r.value) for r in ordered]
    y_scale = LogScale(values)
    first, last = ordered[0], ordered[-1]
    summary = (
        f"CSF pNFH from {first.sample_date:%d %b %Y} ({values[0]:.0f} pg/mL) to {last.sample_date:%d %b %Y} "
        f"({values[-1]:.0f} pg/mL), {len(ordered)} results, against the MIROCALS strata"
    )
    parts: list[str] = []
    svg_open(parts, HEIGHT, title_id, summary)
    parts.append(_DEFS)
    panel_title(parts, TOP, "CSF pNFH (pg/mL, log scale)")
    _bands(parts, y_scale)
    for decade in y_scale.decades():
        if decade not in (y_scale.low, y_scale.high) and abs(y_scale.y(decade) - y_scale.y(PNFH_LOW_FROM)) < 12:
            continue  # 1000 sits too close to the 750 edge to label both
        grid_line(parts, y_scale.y(decade), f"{decade:,}")
    time_axis(parts, scale, BOTTOM)
    death_marker(parts, scale, died_on, TOP, BOTTOM)
    points = [(scale.x(r.sample_date), y_scale.y(v)) for r, v in zip(ordered, values, strict=True)]
    parts.append(line(points, POINT_COLOUR, "", 2))
    for (x, y), r, v in zip(points, ordered, values, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{POINT_COLOUR}" data-testid="pnfh-point">'
            f"<title>{r.sample_date:%d %b %Y}: {v:.0f} pg/mL</title></circle>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers, dates and our own labels only
