"""The ALSFRS-R chart on the patient page, drawn as inline SVG on the server.

No JavaScript charting library: the registry's machines have no internet and no CDN, and an
SVG rendered here prints, scales to a tablet and needs no client code. The chart has two
panels sharing the time axis: the total (0-48) and the four domain subscores (0-12 each).
Under them, two rows give King's and MiToS stage at each assessment (stored on the assessment
by `registry.scoring`, never recomputed here), and 5 at the date of death. Each line has its
own dash pattern as well as its own colour, so it reads without colour. A table of the same
values accompanies it on the page for screen readers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from clinic.charts.axis import (
    LEFT,
    RIGHT,
    WIDTH,
    TimeScale,
    death_marker,
    grid_line,
    line,
    panel_title,
    svg_open,
    time_axis,
    y_linear,
)
from registry.models import AlsfrsrAssessment

HEIGHT = 412
TOTAL_TOP, TOTAL_BOTTOM = 24, 190
SUB_TOP, SUB_BOTTOM = 226, 340
#: Baselines of the King's and MiToS rows, under the month labels.
KINGS_ROW, MITOS_ROW = 378, 400

#: (field, legend, colour, dash pattern); colours from the Okabe-Ito colour-blind-safe set.
SUBSCORES: tuple[tuple[str, str, str, str], ...] = (
    ("bulbar", "Bulbar", "#D55E00", ""),
    ("fine_motor", "Fine motor", "#0072B2", "6 3"),
    ("gross_motor", "Gross motor", "#009E73", "2 3"),
    ("respiratory", "Respiratory", "#CC79A7", "8 3 2 3"),
)
TOTAL_COLOUR = "#1b1b1b"


def _panel_axes(parts: list[str], maximum: int, step: int, top: float, bottom: float, title: str) -> None:
    panel_title(parts, top, title)
    for value in range(0, maximum + 1, step):
        grid_line(parts, y_linear(value, maximum, top, bottom), str(value))


def _total(parts: list[str], scale: TimeScale, ordered: Sequence[AlsfrsrAssessment]) -> None:
    points = [(scale.x(a.assessment_date), y_linear(a.total, 48, TOTAL_TOP, TOTAL_BOTTOM)) for a in ordered]
    parts.append(line(points, TOTAL_COLOUR, "", 2.5))
    for (x, y), a in zip(points, ordered, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{TOTAL_COLOUR}" data-testid="total-point">'
            f"<title>{a.assessment_date:%d %b %Y}: {a.total}/48, King's {escape(a.kings_stage)}, "
            f"MiToS {a.mitos_stage}</title></circle>"
        )
    legend_x = WIDTH - RIGHT + 14
    parts.append(f'<text x="{legend_x}" y="{TOTAL_TOP + 10}" class="legend">Total {ordered[-1].total}</text>')


def _subscores(parts: list[str], scale: TimeScale, ordered: Sequence[AlsfrsrAssessment]) -> None:
    legend_x = WIDTH - RIGHT + 14
    for index, (name, label, colour, dash) in enumerate(SUBSCORES):
        points = [(scale.x(a.assessment_date), y_linear(getattr(a, name), 12, SUB_TOP, SUB_BOTTOM)) for a in ordered]
        parts.append(line(points, colour, dash, 2))
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        y = SUB_TOP + 6 + index * 20
        parts.append(line([(legend_x, y), (legend_x + 26, y)], colour, dash, 2))
        parts.append(
            f'<text x="{legend_x + 32}" y="{y + 4}" class="legend">{escape(label)} {getattr(ordered[-1], name)}</text>'
        )


def _stages(parts: list[str], scale: TimeScale, ordered: Sequence[AlsfrsrAssessment], died_on: dt.date | None) -> None:
    """King's and MiToS at each assessment, in two labelled rows aligned with the points."""
    rows = (("King's", KINGS_ROW, "kings_stage", "5"), ("MiToS", MITOS_ROW, "mitos_stage", "5"))
    for label, y, name, at_death in rows:
        parts.append(f'<text x="{WIDTH - RIGHT + 14}" y="{y}" class="legend">{label} stage</text>')
        for a in ordered:
            parts.append(
                f'<text x="{scale.x(a.assessment_date):.1f}" y="{y}" text-anchor="middle" class="stage" '
                f'data-stage="{name}">{escape(getattr(a, name))}</text>'
            )
        if died_on is not None:
            parts.append(
                f'<text x="{scale.x(died_on):.1f}" y="{y}" text-anchor="middle" class="stage" '
                f'data-stage="{name}">{at_death}</text>'
            )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{KINGS_ROW - 16}" y2="{KINGS_ROW - 16}" class="grid"/>')


def alsfrsr_chart(
    assessments: Sequence[AlsfrsrAssessment],
    title_id: str = "alsfrsr-chart-title",
    *,
    scale: TimeScale | None = None,
    died_on: dt.date | None = None,
) -> SafeString:
    """SVG of the assessments in date order; an empty string when there are none.

    `scale` is the time axis shared with the patient's other charts (by default the span of the
    assessments). `died_on` draws the death and stage 5 in the staging rows.
    """
    if not assessments:
        return mark_safe("")
    ordered = sorted(assessments, key=lambda a: a.assessment_date)
    if scale is None:
        scale = TimeScale(ordered[0].assessment_date, max(ordered[-1].assessment_date, died_on or dt.date.min))
    first, last = ordered[0], ordered[-1]
    summary = (
        f"ALSFRS-R from {first.assessment_date:%d %b %Y} ({first.total}/48, King's {first.kings_stage}, "
        f"MiToS {first.mitos_stage}) to {last.assessment_date:%d %b %Y} ({last.total}/48, "
        f"King's {last.kings_stage}, MiToS {last.mitos_stage}), {len(ordered)} assessments"
    )
    parts: list[str] = []
    svg_open(parts, HEIGHT, title_id, summary)
    _panel_axes(parts, 48, 12, TOTAL_TOP, TOTAL_BOTTOM, "Total (0–48)")
    _panel_axes(parts, 12, 4, SUB_TOP, SUB_BOTTOM, "Domain subscores (0–12)")
    time_axis(parts, scale, SUB_BOTTOM)
    death_marker(parts, scale, died_on, TOTAL_TOP, SUB_BOTTOM)
    _total(parts, scale, ordered)
    _subscores(parts, scale, ordered)
    _stages(parts, scale, ordered, died_on)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers, dates and our own escaped labels only
