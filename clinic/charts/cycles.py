"""Treatment cycles as a band of 28-day bars on the patients' shared time axis (inline SVG).

Each cycle is a bar from its start to the day before the next would start on the 28-day
schedule. A cycle with all planned dosing days given is solid; one with doses missed is
hatched and labelled "given/planned" in days; an interrupted one has a dashed outline.
So the state of a cycle reads from its pattern and text, not from colour alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from access_programme.models import TreatmentCycle
from clinic.charts.axis import LEFT, RIGHT, WIDTH, TimeScale, death_marker, panel_title, svg_open, time_axis
from registry.constants import CYCLE_LENGTH_DAYS, DOSING_DAYS_PER_CYCLE

HEIGHT = 106
TOP, BAR_HEIGHT = 40, 26
FULL_COLOUR, MISSED_COLOUR = "#0072B2", "#D55E00"

_DEFS = (
    "<defs>"
    '<pattern id="cycle-missed" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    f'<rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="{MISSED_COLOUR}" '
    'stroke-width="3"/></pattern>'
    "</defs>"
)


def cycle_end(cycle: TreatmentCycle) -> dt.date:
    """The last day of the cycle's 28 days."""
    return cycle.start_date + dt.timedelta(days=CYCLE_LENGTH_DAYS - 1)


def doses_text(cycle: TreatmentCycle) -> str:
    return f"{cycle.days_administered}/{DOSING_DAYS_PER_CYCLE}"


def _bar(parts: list[str], scale: TimeScale, cycle: TreatmentCycle) -> None:
    x0, x1 = scale.x(cycle.start_date), scale.x(cycle_end(cycle))
    width = max(x1 - x0, 1.0)
    complete = cycle.days_administered >= DOSING_DAYS_PER_CYCLE
    fill = FULL_COLOUR if complete else "url(#cycle-missed)"
    dash = ' stroke-dasharray="3 2"' if cycle.interrupted else ""
    planned = cycle.planned_dose_miu * DOSING_DAYS_PER_CYCLE
    tip = (
        f"Cycle {cycle.cycle_number} from {cycle.start_date:%d %b %Y}: {doses_text(cycle)} days given, "
        f"{cycle.total_dose_miu.normalize():f} of {planned.normalize():f} MIU"
        + (f"; interrupted: {cycle.interruption_reason}" if cycle.interrupted else "")
    )
    parts.append(
        f'<rect x="{x0:.1f}" y="{TOP}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{fill}" '
        f'stroke="#1b1b1b" stroke-width="1"{dash} data-cycle="{cycle.cycle_number}">'
        f"<title>{escape(tip)}</title></rect>"
    )
    if width >= 18:
        colour = "#fff" if complete else "#1b1b1b"
        parts.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{TOP + 17}" text-anchor="middle" class="cycle-label" '
            f'fill="{colour}">{cycle.cycle_number}</text>'
        )
    if not complete:
        parts.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{TOP - 4}" text-anchor="middle" class="tick" '
            f'data-doses="{cycle.cycle_number}">{doses_text(cycle)}</text>'
        )


def cycles_chart(
    cycles: Sequence[TreatmentCycle],
    scale: TimeScale,
    title_id: str = "cycles-chart-title",
    *,
    died_on: dt.date | None = None,
) -> SafeString:
    """SVG of the patient's cycles on the shared time axis; empty when there are none."""
    if not cycles:
        return mark_safe("")
    ordered = sorted(cycles, key=lambda c: c.start_date)
    short = [c for c in ordered if c.days_administered < DOSING_DAYS_PER_CYCLE]
    summary = (
        f"{len(ordered)} treatment cycles from {ordered[0].start_date:%d %b %Y} to {ordered[-1].start_date:%d %b %Y}; "
        f"{len(short)} with doses missed"
    )
    parts: list[str] = []
    svg_open(parts, HEIGHT, title_id, summary)
    parts.append(_DEFS)
    panel_title(parts, TOP - 18, "Treatment cycles (28 days; days given/planned where short)")
    for cycle in ordered:
        _bar(parts, scale, cycle)
    time_axis(parts, scale, TOP + BAR_HEIGHT)
    death_marker(parts, scale, died_on, TOP, TOP + BAR_HEIGHT)
    legend_x = WIDTH - RIGHT + 14
    parts.append(f'<rect x="{legend_x}" y="{TOP}" width="14" height="10" fill="{FULL_COLOUR}" stroke="#1b1b1b"/>')
    parts.append(f'<text x="{legend_x + 20}" y="{TOP + 9}" class="legend">All doses</text>')
    parts.append(
        f'<rect x="{legend_x}" y="{TOP + 16}" width="14" height="10" fill="url(#cycle-missed)" stroke="#1b1b1b"/>'
    )
    parts.append(f'<text x="{legend_x + 20}" y="{TOP + 25}" class="legend">Doses missed</text>')
    baseline = TOP + BAR_HEIGHT
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{baseline}" y2="{baseline}" class="axis"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers, dates and our own escaped labels only
