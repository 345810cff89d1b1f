"""The ALSFRS-R chart on the patient page, drawn as inline SVG on the server.

No JavaScript charting library: the registry's machines have no internet and no CDN, and an
SVG rendered here prints, scales to a tablet and needs no client code. The chart has two
panels sharing the time axis: the total (0-48) and the four domain subscores (0-12 each).
Each line has its own dash pattern as well as its own colour, so it reads without colour.
A table of the same values accompanies it on the page for screen readers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from registry.models import AlsfrsrAssessment

WIDTH, HEIGHT = 760, 380
LEFT, RIGHT = 52, 150
TOTAL_TOP, TOTAL_BOTTOM = 24, 190
SUB_TOP, SUB_BOTTOM = 226, 340

#: (field, legend, colour, dash pattern); colours from the Okabe-Ito colour-blind-safe set.
SUBSCORES: tuple[tuple[str, str, str, str], ...] = (
    ("bulbar", "Bulbar", "#D55E00", ""),
    ("fine_motor", "Fine motor", "#0072B2", "6 3"),
    ("gross_motor", "Gross motor", "#009E73", "2 3"),
    ("respiratory", "Respiratory", "#CC79A7", "8 3 2 3"),
)
TOTAL_COLOUR = "#1b1b1b"


@dataclass(frozen=True)
class _Scale:
    start: dt.date
    end: dt.date

    def x(self, day: dt.date) -> float:
        span = (self.end - self.start).days
        if span <= 0:
            return LEFT + (WIDTH - LEFT - RIGHT) / 2
        return LEFT + (day - self.start).days / span * (WIDTH - LEFT - RIGHT)


def _y(value: float, maximum: float, top: float, bottom: float) -> float:
    return bottom - value / maximum * (bottom - top)


def _month_ticks(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of months between start and end, thinned to at most eight labels."""
    ticks: list[dt.date] = []
    day = dt.date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            ticks.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    step = max(1, -(-len(ticks) // 8))
    return ticks[::step]


def _line(points: list[tuple[float, float]], colour: str, dash: str, width: float) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline fill="none" stroke="{colour}" stroke-width="{width}"{dash_attr} '
        f'stroke-linejoin="round" points="{coords}"/>'
    )


def _panel_axes(parts: list[str], maximum: int, step: int, top: float, bottom: float, title: str) -> None:
    parts.append(f'<text x="{LEFT}" y="{top - 8}" class="chart-title">{escape(title)}</text>')
    for value in range(0, maximum + 1, step):
        y = _y(value, maximum, top, bottom)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value}</text>')


def alsfrsr_chart(assessments: Sequence[AlsfrsrAssessment], title_id: str = "alsfrsr-chart-title") -> SafeString:
    """SVG of the assessments in date order; an empty string when there are none."""
    if not assessments:
        return mark_safe("")
    ordered = sorted(assessments, key=lambda a: a.assessment_date)
    scale = _Scale(ordered[0].assessment_date, ordered[-1].assessment_date)
    first, last = ordered[0], ordered[-1]
    summary = (
        f"ALSFRS-R from {first.assessment_date:%d %b %Y} ({first.total}/48) "
        f"to {last.assessment_date:%d %b %Y} ({last.total}/48), {len(ordered)} assessments"
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{title_id}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(summary)}</title>',
    ]
    _panel_axes(parts, 48, 12, TOTAL_TOP, TOTAL_BOTTOM, "Total (0–48)")
    _panel_axes(parts, 12, 4, SUB_TOP, SUB_BOTTOM, "Domain subscores (0–12)")
    for tick in _month_ticks(scale.start, scale.end) or [scale.start]:
        x = scale.x(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{SUB_BOTTOM}" y2="{SUB_BOTTOM + 4}" class="axis"/>')
        parts.append(f'<text x="{x:.1f}" y="{SUB_BOTTOM + 18}" text-anchor="middle" class="tick">{tick:%b %Y}</text>')

    total_points = [(scale.x(a.assessment_date), _y(a.total, 48, TOTAL_TOP, TOTAL_BOTTOM)) for a in ordered]
    parts.append(_line(total_points, TOTAL_COLOUR, "", 2.5))
    for (x, y), a in zip(total_points, ordered, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{TOTAL_COLOUR}">'
            f"<title>{a.assessment_date:%d %b %Y}: {a.total}/48</title></circle>"
        )
    legend_x = WIDTH - RIGHT + 14
    parts.append(f'<text x="{legend_x}" y="{TOTAL_TOP + 10}" class="legend">Total {last.total}</text>')
    for index, (name, label, colour, dash) in enumerate(SUBSCORES):
        points = [(scale.x(a.assessment_date), _y(getattr(a, name), 12, SUB_TOP, SUB_BOTTOM)) for a in ordered]
        parts.append(_line(points, colour, dash, 2))
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        y = SUB_TOP + 6 + index * 20
        parts.append(_line([(legend_x, y), (legend_x + 26, y)], colour, dash, 2))
        parts.append(
            f'<text x="{legend_x + 32}" y="{y + 4}" class="legend">{escape(label)} {getattr(last, name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers, dates and our own escaped labels only
