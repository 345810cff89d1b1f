"""The overview's figures as inline SVG, drawn on the server with matplotlib's Figure (no pyplot,
so no global state is shared between requests or threads).

Each figure carries alt text (an SVG <title> naming every number it shows, referenced by
aria-labelledby), scales with the page (viewBox, no fixed size), has ids of its own (the SVG hash
salt is the figure's name, so two figures on one page never share a clip-path id), and comes
with the table it was drawn from, offered as CSV. Colours are the Okabe-Ito colour-blind-safe
set, and every line also has its own dash pattern, so no figure depends on colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import pandas as pd
from django.utils.safestring import SafeString
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from analytics.overview.selectors import ROUTES, STRATA, Overview
from analytics.svg import accessible_svg

COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)), (0, (3, 3)))
STRATUM_COLOURS = {"below_750": "#56B4E9", "low": "#0072B2", "high": "#D55E00", "missing": "#BBBBBB"}
HATCHES = {"below_750": "", "low": "", "high": "//", "missing": ".."}
RC: dict[RcKeyType, Any] = {
    "font.size": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    alt: str
    svg: SafeString
    data: pd.DataFrame


def svg_markup(fig: Figure, name: str, alt: str) -> SafeString:
    """The figure as an <svg> element with role="img" and its alt text as <title>."""
    return accessible_svg(fig, name, alt, salt=f"overview-{name}", css_class="chart overview-chart")


def _figure(height: float = 3.2) -> tuple[Figure, Axes]:
    with mpl.rc_context(RC):
        fig = Figure(figsize=(6.4, height), layout="constrained")
        ax = fig.add_subplot()
    return fig, ax


def _draw(name: str, title: str, alt: str, data: pd.DataFrame, paint: Callable[[Axes], None], height: float) -> Chart:
    with mpl.rc_context(RC):
        fig, ax = _figure(height)
        paint(ax)
        svg = svg_markup(fig, name, alt)
    return Chart(name, title, alt, svg, data)


def _month_range(table: pd.DataFrame) -> str:
    months = pd.to_datetime(table["month"])
    return f"{months.min():%b %Y} to {months.max():%b %Y}"


def _enrolment(name: str, table: pd.DataFrame, by: str, labels: dict[str, str], title: str) -> Chart:
    if table.empty:
        return _draw(name, title, f"{title}: no patient enrolled yet.", table, _empty, 1.2)
    finals = table.groupby(by)["cumulative"].last()
    parts = [f"{labels.get(key, key)} {int(total)}" for key, total in finals.items()]
    alt = f"{title}, {_month_range(table)}: " + ", ".join(parts) + f"; {int(finals.sum())} in all."

    def paint(ax: Axes) -> None:
        for index, (key, series) in enumerate(table.groupby(by)):
            ax.step(
                pd.to_datetime(series["month"]),
                series["cumulative"],
                where="post",
                label=f"{labels.get(key, key)} ({int(series['cumulative'].iloc[-1])})",
                color=COLOURS[index % len(COLOURS)],
                linestyle=DASHES[index % len(DASHES)],
                linewidth=2,
            )
        months = pd.to_datetime(table["month"])
        ax.set_xlim(months.min() - pd.Timedelta(days=15), months.max() + pd.Timedelta(days=45))
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.set_ylabel("Patients enrolled (cumulative)")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#e3e7ea")
        ax.legend(loc="upper left", fontsize=11, frameon=False)

    return _draw(name, title, alt, table, paint, 3.8)


def _empty(ax: Axes) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No data yet", ha="center", va="center", transform=ax.transAxes)


def _hbars(ax: Axes, labels: Sequence[str], values: Sequence[float], texts: Sequence[str], colour: str) -> None:
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=colour, height=0.6)
    ax.set_yticks(positions, labels=list(labels))
    for y, value, text in zip(positions, values, texts, strict=True):
        ax.annotate(text, (value, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=11)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def status_chart(table: pd.DataFrame) -> Chart:
    title = "Patients by status"
    parts = [f"{row.label} {row.patients}" for row in table.itertuples()]
    alt = f"{title}: " + ", ".join(parts) + f"; {int(table['patients'].sum())} patients in all."

    def paint(ax: Axes) -> None:
        values = table["patients"].tolist()
        _hbars(ax, table["label"].tolist(), values, [str(v) for v in values], COLOURS[0])
        ax.set_xlabel("Patients")
        ax.set_xlim(0, max([*values, 1]) * 1.15)

    return _draw("status", title, alt, table, paint, 3.6)


def completeness_chart(table: pd.DataFrame) -> Chart:
    title = "ALSFRS-R visits done of those expected, by site"

    def describe(row: pd.Series) -> str:
        if pd.isna(row["percent"]):
            return "no visit expected yet"
        return f"{row['percent']:.0f}% ({int(row['done'])} of {int(row['expected'])})"

    texts = [describe(row) for _, row in table.iterrows()]
    alt = f"{title}: " + "; ".join(f"{site} {text}" for site, text in zip(table["site"], texts, strict=True)) + "."

    def paint(ax: Axes) -> None:
        _hbars(ax, table["site"].tolist(), table["percent"].fillna(0).tolist(), texts, COLOURS[2])
        ax.set_xlim(0, 130)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("Expected visits done (%)")

    return _draw("completeness", title, alt, table, paint, 1.0 + 0.4 * len(table))


def pnfh_chart(table: pd.DataFrame) -> Chart:
    title = "Baseline CSF pNFH by route and stratum"
    if table.empty:
        return _draw("pnfh", title, f"{title}: no patient enrolled yet.", table, _empty, 1.2)
    routes = list(dict.fromkeys(table["route"]))
    described = []
    for route in routes:
        rows = table[table["route"] == route]
        counts = ", ".join(f"{STRATA[r.stratum].lower()} {r.patients}" for r in rows.itertuples())
        described.append(f"{ROUTES.get(route, route)}: {counts}")
    alt = f"{title} (enrolled patients): " + "; ".join(described) + "."

    def paint(ax: Axes) -> None:
        positions = list(range(len(routes)))[::-1]
        left = [0] * len(routes)
        for stratum, label in STRATA.items():
            values = [
                int(table[(table["route"] == r) & (table["stratum"] == stratum)]["patients"].sum()) for r in routes
            ]
            ax.barh(
                positions,
                values,
                left=left,
                height=0.6,
                label=label,
                color=STRATUM_COLOURS[stratum],
                hatch=HATCHES[stratum],
                edgecolor="white",
            )
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(positions, labels=[ROUTES.get(r, r) for r in routes])
        ax.set_xlabel("Enrolled patients")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=11, frameon=False)
        ax.tick_params(axis="y", length=0)

    return _draw("pnfh", title, alt, table, paint, 1.6 + 0.45 * len(routes))


def charts(data: Overview) -> list[Chart]:
    return [
        _enrolment("enrolment_by_route", data.enrolment_by_route, "route", ROUTES, "Enrolment over time by route"),
        _enrolment("enrolment_by_site", data.enrolment_by_site, "site", {}, "Enrolment over time by site"),
        status_chart(data.statuses),
        completeness_chart(data.completeness),
        pnfh_chart(data.pnfh),
    ]


def chart_data(data: Overview) -> dict[str, pd.DataFrame]:
    """Each figure's table, as offered for download (the numbers behind the picture)."""
    return {
        "enrolment_by_route": data.enrolment_by_route,
        "enrolment_by_site": data.enrolment_by_site,
        "status": data.statuses,
        "completeness": data.completeness,
        "pnfh": data.pnfh,
    }


def table_cells(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Column headers and cells as text for the table under a figure (missing shown as a dash)."""
    rows = [["–" if pd.isna(value) else str(value) for value in row] for row in frame.itertuples(index=False)]
    return [str(column) for column in frame.columns], rows
