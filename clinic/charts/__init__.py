"""The patient's charts, drawn as inline SVG on the server: ALSFRS-R with King's and MiToS,
treatment cycles, and CSF pNFH against the MIROCALS strata, all on one time axis.

`patient_charts` builds the shared `TimeScale` from every date the charts show (assessments,
pNFH samples, each cycle's 28 days, the death), so the three line up one under the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString

from access_programme.models import TreatmentCycle
from access_programme.selectors import PatientOverview
from clinic.charts.alsfrsr import alsfrsr_chart
from clinic.charts.axis import TimeScale, time_scale
from clinic.charts.cycles import cycle_end, cycles_chart
from clinic.charts.pnfh import pnfh_chart
from registry.models import AlsfrsrAssessment, BiomarkerResult

__all__ = [
    "PatientCharts",
    "TimeScale",
    "alsfrsr_chart",
    "cycle_end",
    "cycles_chart",
    "overview_charts",
    "patient_charts",
    "pnfh_chart",
]


@dataclass(frozen=True)
class PatientCharts:
    scale: TimeScale | None
    alsfrsr: SafeString
    cycles: SafeString
    pnfh: SafeString


def patient_charts(
    *,
    assessments: Sequence[AlsfrsrAssessment],
    pnfh_results: Sequence[BiomarkerResult],
    cycles: Sequence[TreatmentCycle],
    died_on: dt.date | None,
    prefix: str = "",
) -> PatientCharts:
    """The three charts on one time scale; each is empty when it has nothing to draw.

    `prefix` keeps the SVG title ids unique when the charts appear twice in one document.
    """
    dates: list[dt.date] = [a.assessment_date for a in assessments]
    dates += [r.sample_date for r in pnfh_results]
    dates += [day for c in cycles for day in (c.start_date, cycle_end(c))]
    if died_on is not None and dates:
        dates.append(died_on)
    scale = time_scale(dates)
    if scale is None:
        return PatientCharts(None, SafeString(""), SafeString(""), SafeString(""))
    return PatientCharts(
        scale=scale,
        alsfrsr=alsfrsr_chart(assessments, f"{prefix}alsfrsr-chart-title", scale=scale, died_on=died_on),
        cycles=cycles_chart(cycles, scale, f"{prefix}cycles-chart-title", died_on=died_on),
        pnfh=pnfh_chart(pnfh_results, scale, f"{prefix}pnfh-chart-title", died_on=died_on),
    )


def overview_charts(overview: PatientOverview, *, prefix: str = "") -> PatientCharts:
    """The charts of what the patient page (or its printed summary) shows."""
    return patient_charts(
        assessments=overview.assessments,
        pnfh_results=overview.pnfh_results,
        cycles=overview.cycles,
        died_on=overview.deceased_on,
        prefix=prefix,
    )
