"""The results page's figures, drawn from a run's stored results (matplotlib Figure, no pyplot).

* Kaplan-Meier plots: a step curve with its 95 % CI band, a "+" where patients were censored,
  the numbers at risk printed beneath the axis (and given as a table beside the figure), and
  on the primary plot the MIROCALS placebo curve dashed, labelled with its provenance.
* A forest plot of the primary SMR within subgroups (route, pNFH stratum, sex, onset site, age
  band), on a log scale with the line of no difference at 1.
Each figure carries alt text naming its numbers and the table of what was plotted (offered as
CSV). Colours are Okabe-Ito, and every line also has its own dash pattern.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from django.utils.safestring import SafeString
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analytics.overview.charts import COLOURS, DASHES, RC
from analytics.survival.formatting import ci, percent, provenance_label
from analytics.svg import accessible_svg, png_bytes

ROUTE_LABELS = {
    "managed_access": "Managed access (ILT-101)",
    "nhs_specials": "NHS Specials (Proleukin)",
    "none": "Untreated comparator",
}
STRATUM_LABELS = {
    "below_750": "CSF pNFH below 750 pg/mL",
    "low": "CSF pNFH 750-3700 pg/mL",
    "high": "CSF pNFH above 3700 pg/mL",
    "missing": "No CSF pNFH",
}
FOREST_LIMITS = (0.05, 10.0)


@dataclass
class ResultFigure:
    """A figure's title, alt text, plotted numbers and at-risk table; drawn only when asked for
    (`stored` is its SVG as drawn when the run finished, when there is one)."""

    name: str
    title: str
    alt: str
    draw: Callable[[], Figure] = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    risk_table: tuple[list[str], list[list[str]]] | None = None
    stored: str | None = None

    @cached_property
    def figure(self) -> Figure:
        with mpl.rc_context(RC):
            return self.draw()

    @property
    def svg(self) -> SafeString:
        if self.stored:
            return SafeString(self.stored)
        with mpl.rc_context(RC):
            return accessible_svg(self.figure, self.name, self.alt, salt=f"results-{self.name}")

    @property
    def png(self) -> bytes:
        with mpl.rc_context(RC):
            return png_bytes(self.figure)


def at_risk(timeline: Sequence[dict[str, Any]], n: int, day: float) -> int:
    """Patients still at risk at ``day`` (exit on or after it), read off a stored KM timeline."""
    if day <= 0:
        return n
    return next((int(row["n_at_risk"]) for row in timeline if row["time"] >= day), 0)


def _series_frame(label: str, summary: dict[str, Any]) -> pd.DataFrame:
    rows = [{"time": 0.0, "n_at_risk": summary["n"], "events": 0, "censored": 0, "survival": 1.0}]
    rows[0] |= {"ci_lower": 1.0, "ci_upper": 1.0}
    rows += [{k: row.get(k) for k in rows[0]} for row in summary["timeline"]]
    frame = pd.DataFrame(rows)
    frame.insert(0, "curve", label)
    return frame


def _risk_times(limit: float, times: Sequence[float] | None) -> list[float]:
    if times:
        return [float(t) for t in times]
    step = 160.0 if limit <= 800 else 365.0
    return [float(t) for t in np.arange(0.0, limit + 1, step)]


def _draw_km(ax: Axes, frame: pd.DataFrame, index: int, label: str, limit: float) -> None:
    colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
    shown = frame[frame["time"] <= limit]
    times = shown["time"].to_numpy(float)
    survival = shown["survival"].to_numpy(float)
    lower = pd.to_numeric(shown["ci_lower"], errors="coerce").to_numpy(float)
    upper = pd.to_numeric(shown["ci_upper"], errors="coerce").to_numpy(float)
    end = min(limit, float(frame["time"].max()))
    times_ext = np.append(times, end)
    ax.step(
        times_ext,
        np.append(survival, survival[-1]),
        where="post",
        color=colour,
        linestyle=dash,
        linewidth=2,
        label=label,
    )
    ax.fill_between(
        times_ext,
        np.append(lower, lower[-1]),
        np.append(upper, upper[-1]),
        step="post",
        alpha=0.15,
        color=colour,
        linewidth=0,
    )
    censored = shown[shown["censored"] > 0]
    ax.plot(censored["time"], censored["survival"], linestyle="none", marker="+", markersize=7, color=colour)


def km_figure(
    name: str,
    title: str,
    curves: Sequence[tuple[str, dict[str, Any] | None]],
    benchmark: dict[str, Any] | None = None,
    risk_times: Sequence[float] | None = None,
    limit: float | None = None,
    describe: str = "",
) -> ResultFigure:
    """A Kaplan-Meier plot with CI bands, censoring marks, numbers at risk and an optional benchmark."""
    present = [(label, summary) for label, summary in curves if summary and summary.get("timeline")]
    frames = [_series_frame(label, summary) for label, summary in present]
    horizon = limit or max([float(f["time"].max()) for f in frames] or [640.0])
    times = _risk_times(horizon, risk_times)
    risk_rows = [
        [label, *[str(at_risk(summary["timeline"], summary["n"], t)) for t in times]] for label, summary in present
    ]
    bench_frame, bench_label = None, ""
    if benchmark:
        points = np.asarray(benchmark["cumulative_hazard"], dtype=float)
        grid = np.linspace(0, min(points[-1, 0], horizon), 60)
        surv = np.exp(-np.interp(grid, points[:, 0], points[:, 1]))
        bench_label = f"MIROCALS placebo arm\n({provenance_label(benchmark['provenance'])}"
        bench_label += "; approximate: curve shape assumed)" if benchmark.get("approximate") else ")"
        bench_frame = pd.DataFrame({"curve": bench_label.replace("\n", " "), "time": grid, "survival": surv})

    def draw() -> Figure:
        fig = Figure(figsize=(7.2, 4.6 + 0.32 * len(present)), layout="constrained")
        ax, table_ax = fig.subplots(2, 1, height_ratios=[5, 0.45 + 0.4 * len(present)], sharex=True)
        for index, ((label, summary), frame) in enumerate(zip(present, frames, strict=True)):
            _draw_km(ax, frame, index, f"{label} (n={summary['n']}, deaths={summary['events']})", horizon)
        if bench_frame is not None:
            ax.plot(
                bench_frame["time"],
                bench_frame["survival"],
                color="#000000",
                linestyle=(0, (6, 3)),
                linewidth=1.6,
                label=bench_label,
            )
        ax.set_xlim(0, horizon * 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("Proportion alive")
        ax.grid(axis="y", color="#e3e7ea")
        ax.legend(loc="lower left", fontsize=9, frameon=False)
        ax.set_xlabel("Days from first dose" + describe)
        table_ax.set_ylim(-0.5, len(present) + 0.2)
        for row, (label, *counts) in enumerate(risk_rows):
            y = len(present) - 1 - row
            if len(present) > 1:
                table_ax.annotate(
                    label,
                    (0, y),
                    xytext=(-16, 0),
                    textcoords="offset points",
                    ha="right",
                    va="center",
                    fontsize=8,
                    color=COLOURS[row % len(COLOURS)],
                )
            for t, count in zip(times, counts, strict=True):
                table_ax.text(
                    t,
                    y,
                    count,
                    ha="center",
                    va="center",
                    fontsize=9,
                    color=COLOURS[row % len(COLOURS)] if len(present) > 1 else "#222222",
                )
        table_ax.text(0, len(present) - 0.15, "Numbers at risk", fontsize=9, fontweight="bold", va="bottom")
        table_ax.set_yticks([])
        table_ax.set_axis_off()
        ax.set_xticks(times)
        ax.tick_params(labelbottom=True)
        return fig

    data = pd.concat([*frames, *([bench_frame] if bench_frame is not None else [])], ignore_index=True)
    alt = _km_alt(title, present, times, risk_rows, benchmark)
    return ResultFigure(name, title, alt, draw, data, (["Group", *[f"{t:g} days" for t in times]], risk_rows))


def _km_alt(
    title: str,
    present: Sequence[tuple[str, dict[str, Any]]],
    times: Sequence[float],
    risk_rows: Sequence[Sequence[str]],
    benchmark: dict[str, Any] | None,
) -> str:
    parts = []
    for (label, summary), row in zip(present, risk_rows, strict=True):
        at_640 = next((a for a in summary.get("at_times", []) if a["time"] == 640), None)
        text = f"{label}: {summary['n']} patients, {summary['events']} deaths"
        if at_640 and at_640.get("estimable"):
            interval = ci(at_640["ci_lower"], at_640["ci_upper"], pct=True)
            text += f", {percent(at_640['survival'])} alive at 640 days ({interval})"
        text += "; at risk at " + ", ".join(f"{t:g} days {n}" for t, n in zip(times, row[1:], strict=True))
        parts.append(text)
    if benchmark:
        points = benchmark["cumulative_hazard"]
        parts.append(
            f"Dashed: MIROCALS placebo arm ({provenance_label(benchmark['provenance'])}), "
            f"{percent(math.exp(-points[-1][1]))} alive at {points[-1][0]:g} days"
        )
    return f"{title}. " + ". ".join(parts) + "."


def forest_figure(primary: dict[str, Any]) -> ResultFigure | None:
    """The primary SMR overall and within subgroups, on a log scale."""
    estimate = primary.get("estimate") or {}
    if "smr" not in estimate:
        return None
    rows: list[dict[str, Any]] = [{"variable": "", "group": "All eligible patients (primary set)", **estimate}]
    rows += [row for row in primary.get("subgroups", []) if "smr" in row]
    labels: list[tuple[str, bool]] = []
    plotted: list[tuple[float, dict[str, Any]]] = []
    previous = None
    for row in rows:
        if row["variable"] and row["variable"] != previous:
            labels.append((row["variable"], True))
            previous = row["variable"]
        labels.append((f"{row['group']} ({row['observed']}/{row['expected']:.1f})", False))
        plotted.append((len(labels) - 1, row))
    low, high = FOREST_LIMITS

    def draw() -> Figure:
        fig = Figure(figsize=(7.2, 1.2 + 0.3 * len(labels)), layout="constrained")
        ax = fig.add_subplot()
        total = len(labels)
        for position, row in plotted:
            y = total - 1 - position
            lo = max(row["smr_ci_lower"] or low, low)
            hi = min(row["smr_ci_upper"] or high, high)
            ax.plot([lo, hi], [y, y], color="#222222", linewidth=1.4)
            marker = "D" if not row["variable"] else "s"
            ax.plot(
                [max(row["smr"], low)],
                [y],
                marker=marker,
                color=COLOURS[0],
                markersize=7 if marker == "D" else 6,
                fillstyle="full" if row["smr"] > 0 else "none",
            )
            ax.annotate(
                f"{row['smr']:.2f} ({ci(row['smr_ci_lower'], row['smr_ci_upper'])})",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
        ax.axvline(1.0, color="#555555", linewidth=1, linestyle=":")
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        ticks = [0.1, 0.2, 0.5, 1, 2, 5]
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_yticks([total - 1 - i for i in range(total)], labels=[text for text, _ in labels], fontsize=9)
        for tick, (_, header) in zip(ax.get_yticklabels(), labels, strict=True):
            if header:
                tick.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.7, total - 0.3)
        ax.set_xlabel(
            "Standardised mortality ratio against the MIROCALS placebo arm (log scale)\n"
            "Below 1: fewer deaths than the placebo arm predicts. Labels: observed/expected deaths"
        )
        return fig

    data = pd.DataFrame(
        [
            {
                k: row.get(k)
                for k in ("variable", "group", "n", "observed", "expected", "smr", "smr_ci_lower", "smr_ci_upper", "p")
            }
            for _, row in plotted
        ]
    )
    data["variable"] = data["variable"].replace("", "All")
    title = "Deaths observed against the MIROCALS placebo arm, by subgroup"
    alt = (
        f"{title} (forest plot of the standardised mortality ratio, 95% CI). "
        + "; ".join(
            f"{'' if not row['variable'] else row['variable'] + ', '}{row['group']}: {row['observed']} observed, "
            f"{row['expected']:.1f} expected, SMR {row['smr']:.2f} ({ci(row['smr_ci_lower'], row['smr_ci_upper'])})"
            for _, row in plotted
        )
        + "."
    )
    return ResultFigure("forest_subgroups", title, alt, draw, data)


def result_figures(results: dict[str, Any], stored: dict[str, str] | None = None) -> list[ResultFigure]:
    """The page's figures, in reading order: the primary comparison first; ``stored`` holds the
    SVGs drawn when the run finished (a run's results never change, so neither do they)."""
    figures = _figures(results)
    for figure in figures:
        figure.stored = (stored or {}).get(figure.name)
    return figures


def drawn_figures(results: dict[str, Any]) -> dict[str, str]:
    """Every figure drawn as SVG, to store with the run."""
    return {figure.name: str(figure.svg) for figure in _figures(results)}


def _figures(results: dict[str, Any]) -> list[ResultFigure]:
    figures: list[ResultFigure] = []
    primary = (results.get("emulation") or {}).get("primary_analysis") or {}
    if primary.get("km"):
        figures.append(
            km_figure(
                "km_primary",
                "Survival from first dose of MIROCALS-eligible patients, beside the MIROCALS placebo arm",
                [("Registry, eligible at first dose", primary["km"])],
                benchmark=primary.get("benchmark"),
                risk_times=primary.get("risk_times"),
                limit=primary.get("stop_days") or 640.0,
            )
        )
    forest = forest_figure(primary)
    if forest:
        figures.append(forest)
    km = results.get("km") or {}
    if km:
        figures.append(
            km_figure(
                "km_by_route",
                "Overall survival by access route",
                [(label, km["by_route"]["os"].get(k)) for k, label in ROUTE_LABELS.items()],
                describe=" (untreated comparator: from enrolment)",
            )
        )
        figures.append(
            km_figure(
                "km_by_pnfh_stratum",
                "Overall survival by CSF pNFH stratum",
                [(label, km["by_stratum"]["os"].get(k)) for k, label in STRATUM_LABELS.items()],
                describe=" (untreated comparator: from enrolment)",
            )
        )
    return figures
