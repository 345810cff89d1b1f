"""What the patient page's charts share: one time scale, the plot's width and margins, and the
few SVG pieces every panel draws (lines, y grid, month ticks along the bottom).

The ALSFRS-R, treatment-cycle and pNFH charts are drawn with the same `TimeScale` and the same
LEFT/RIGHT margins in the same viewBox width, so a date lands at the same x in all three and
the charts line up one under the other on the page and in the printed summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.html import escape

#: The charts' own style, inside each SVG so it is the same on the page and in the PDF (WeasyPrint
#: styles an inline SVG from its own <style> only). Scoped to svg.chart: on a page it is global.
STYLE = (
    "<style>"
    "svg.chart .grid{stroke:#e3e7ea;stroke-width:1}svg.chart .axis{stroke:#4c6272}"
    "svg.chart text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}"
    "svg.chart .tick{font-size:12px;fill:#4c6272}svg.chart .legend{font-size:13px;fill:#1b1b1b}"
    "svg.chart .chart-title{font-size:13px;font-weight:600;fill:#1b1b1b}"
    "svg.chart .stage{font-size:12px;font-weight:600;fill:#1b1b1b}"
    "svg.chart .cycle-label{font-size:11px;font-weight:600}"
    "</style>"
)
WIDTH = 760
LEFT, RIGHT = 52, 150
PLOT_WIDTH = WIDTH - LEFT - RIGHT


@dataclass(frozen=True)
class TimeScale:
    """Dates to x coordinates, linear between the first and the last date of the patient's data."""

    start: dt.date
    end: dt.date

    def x(self, day: dt.date) -> float:
        span = (self.end - self.start).days
        if span <= 0:
            return LEFT + PLOT_WIDTH / 2
        return LEFT + (day - self.start).days / span * PLOT_WIDTH


def time_scale(dates: Iterable[dt.date]) -> TimeScale | None:
    """The scale spanning these dates; None when there are none."""
    days = sorted(dates)
    return TimeScale(days[0], days[-1]) if days else None


def y_linear(value: float, maximum: float, top: float, bottom: float) -> float:
    return bottom - value / maximum * (bottom - top)


def month_ticks(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of months between start and end, thinned to at most eight labels."""
    ticks: list[dt.date] = []
    day = dt.date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            ticks.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    step = max(1, -(-len(ticks) // 8))
    return ticks[::step]


def line(points: list[tuple[float, float]], colour: str, dash: str, width: float) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline fill="none" stroke="{colour}" stroke-width="{width}"{dash_attr} '
        f'stroke-linejoin="round" points="{coords}"/>'
    )


def svg_open(parts: list[str], height: int, title_id: str, summary: str) -> None:
    """The root element and its title (what a screen reader announces for the chart)."""
    parts.append(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{title_id}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    )
    parts.append(f'<title id="{title_id}">{escape(summary)}</title>')
    parts.append(STYLE)


def panel_title(parts: list[str], top: float, title: str) -> None:
    parts.append(f'<text x="{LEFT}" y="{top - 8}" class="chart-title">{escape(title)}</text>')


def grid_line(parts: list[str], y: float, label: str) -> None:
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
    parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(label)}</text>')


def time_axis(parts: list[str], scale: TimeScale, bottom: float) -> None:
    """Month ticks and labels under a panel whose plot ends at `bottom`."""
    for tick in month_ticks(scale.start, scale.end) or [scale.start]:
        x = scale.x(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" class="axis"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" class="tick">{tick:%b %Y}</text>')


def death_marker(parts: list[str], scale: TimeScale, died_on: dt.date | None, top: float, bottom: float) -> None:
    """A dashed vertical line at the date of death, labelled, across the panel."""
    if died_on is None:
        return
    x = scale.x(died_on)
    parts.append(
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#1b1b1b" stroke-width="1.5" '
        f'stroke-dasharray="2 2" data-testid="death-marker"/>'
    )
    parts.append(f'<text x="{x - 3:.1f}" y="{top + 10}" text-anchor="end" class="tick">Death {died_on:%d %b %Y}</text>')
