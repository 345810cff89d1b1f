"""The patient page's SVG charts: values land where they should, the pNFH bands sit at the MIROCALS
edges, and the ALSFRS-R, cycle and pNFH charts share one time axis."""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from access_programme.models import TreatmentCycle
from clinic.charts import alsfrsr, cycles, patient_charts, pnfh
from clinic.charts.axis import LEFT, PLOT_WIDTH
from registry.models import AlsfrsrAssessment, Analyte, BiomarkerResult

pytestmark = pytest.mark.requirement("CLN-04")
SVG = "{http://www.w3.org/2000/svg}"
DAY0 = dt.date(2026, 1, 5)


def assessment(days: int, total: int, kings: str = "1", mitos: int = 0) -> AlsfrsrAssessment:
    return AlsfrsrAssessment(
        assessment_date=DAY0 + dt.timedelta(days=days),
        total=total,
        bulbar=12,
        fine_motor=12,
        gross_motor=total - 36,
        respiratory=12,
        kings_stage=kings,
        mitos_stage=mitos,
    )


def pnfh_result(days: int, value: int) -> BiomarkerResult:
    return BiomarkerResult(
        sample_date=DAY0 + dt.timedelta(days=days), analyte=Analyte.CSF_PNFH, value=Decimal(value), unit="pg/mL"
    )


def cycle(number: int, days: int, given: int = 5) -> TreatmentCycle:
    return TreatmentCycle(
        cycle_number=number,
        start_date=DAY0 + dt.timedelta(days=days),
        days_administered=given,
        total_dose_miu=Decimal(2 * given),
        planned_dose_miu=Decimal(2),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def points(root: ET.Element, testid: str) -> list[tuple[float, float]]:
    return [
        (float(c.get("cx", "nan")), float(c.get("cy", "nan")))
        for c in root.iter(f"{SVG}circle")
        if c.get("data-testid") == testid
    ]


def test_an_alsfrs_r_total_lands_at_its_height_on_the_0_to_48_axis():
    root = parse(alsfrsr.alsfrsr_chart([assessment(0, 48), assessment(90, 36)]))
    (_, y48), (_, y36) = points(root, "total-point")
    assert y48 == pytest.approx(alsfrsr.TOTAL_TOP, abs=0.05)
    assert y36 == pytest.approx(alsfrsr.TOTAL_BOTTOM - 36 / 48 * (alsfrsr.TOTAL_BOTTOM - alsfrsr.TOTAL_TOP), abs=0.05)


def test_the_first_and_last_dates_sit_at_the_ends_of_the_time_axis():
    root = parse(alsfrsr.alsfrsr_chart([assessment(0, 48), assessment(90, 40), assessment(180, 36)]))
    xs = [x for x, _ in points(root, "total-point")]
    assert xs == pytest.approx([LEFT, LEFT + PLOT_WIDTH / 2, LEFT + PLOT_WIDTH], abs=0.05)


def test_kings_and_mitos_stage_are_written_under_each_assessment_and_5_at_death():
    visits = [assessment(0, 47, "1", 0), assessment(120, 38, "3", 1)]
    root = parse(alsfrsr.alsfrsr_chart(visits, died_on=DAY0 + dt.timedelta(days=200)))
    xs = [x for x, _ in points(root, "total-point")]
    for name, expected in (("kings_stage", ["1", "3", "5"]), ("mitos_stage", ["0", "1", "5"])):
        labels = [t for t in root.iter(f"{SVG}text") if t.get("data-stage") == name]
        assert [t.text for t in labels] == expected
        assert [float(t.get("x", "nan")) for t in labels[:2]] == pytest.approx(xs, abs=0.05)
    assert "King's 3, MiToS 1" in root.find(f"{SVG}title").text  # what a screen reader announces


def log_y(value: float, low: float, high: float) -> float:
    share = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return pnfh.BOTTOM - share * (pnfh.BOTTOM - pnfh.TOP)


def test_the_pnfh_bands_change_at_750_and_3700_pg_per_ml():
    results = [pnfh_result(0, 500), pnfh_result(60, 2000), pnfh_result(120, 5200)]
    root = parse(
        pnfh.pnfh_chart(results, patient_charts(assessments=[], pnfh_results=results, cycles=[], died_on=None).scale)
    )
    bands = {r.get("data-band"): r for r in root.iter(f"{SVG}rect") if r.get("data-band")}
    edges = {
        line.get("data-edge"): float(line.get("y1", "nan")) for line in root.iter(f"{SVG}line") if line.get("data-edge")
    }
    # Values from 500 to 5200 pg/mL: the axis runs from 100 to 10,000, logarithmic.
    assert edges["750"] == pytest.approx(log_y(750, 100, 10_000), abs=0.05)
    assert edges["3700"] == pytest.approx(log_y(3700, 100, 10_000), abs=0.05)
    low = bands["low"]
    assert float(low.get("y", "nan")) == pytest.approx(edges["3700"], abs=0.05)
    assert float(low.get("y", "nan")) + float(low.get("height", "nan")) == pytest.approx(edges["750"], abs=0.1)
    assert float(bands["high"].get("y", "nan")) == pnfh.TOP
    below = bands["below"]
    assert float(below.get("y", "nan")) + float(below.get("height", "nan")) == pytest.approx(pnfh.BOTTOM, abs=0.1)
    ys = [y for _, y in points(root, "pnfh-point")]
    assert ys[0] > edges["750"]  # 500: below the trial's strata
    assert edges["3700"] < ys[1] < edges["750"]  # 2000: low
    assert ys[2] < edges["3700"]  # 5200: high


def test_a_pnfh_value_of_exactly_3700_is_drawn_on_the_edge_of_the_low_band():
    results = [pnfh_result(0, 3700)]
    root = parse(
        pnfh.pnfh_chart(results, patient_charts(assessments=[], pnfh_results=results, cycles=[], died_on=None).scale)
    )
    ((_, y),) = points(root, "pnfh-point")
    edge = next(float(line.get("y1", "nan")) for line in root.iter(f"{SVG}line") if line.get("data-edge") == "3700")
    assert y == pytest.approx(edge, abs=0.05)


def test_cycles_alsfrs_r_and_pnfh_share_the_time_axis():
    visits = [assessment(0, 46), assessment(84, 42)]
    results = [pnfh_result(28, 1800)]
    given = [cycle(1, 0), cycle(2, 28), cycle(3, 56, given=3)]
    charts = patient_charts(assessments=visits, pnfh_results=results, cycles=given, died_on=None)
    # The axis spans the first assessment to the last day of cycle 3 (day 83) or the last assessment.
    assert (charts.scale.start, charts.scale.end) == (DAY0, DAY0 + dt.timedelta(days=84))
    bars = {r.get("data-cycle"): r for r in parse(charts.cycles).iter(f"{SVG}rect") if r.get("data-cycle")}
    totals = points(parse(charts.alsfrsr), "total-point")
    ((pnfh_x, _),) = points(parse(charts.pnfh), "pnfh-point")
    assert float(bars["1"].get("x", "nan")) == pytest.approx(totals[0][0], abs=0.05)  # same day, same x
    assert float(bars["2"].get("x", "nan")) == pytest.approx(pnfh_x, abs=0.05)
    assert float(bars["1"].get("x", "nan")) + float(bars["1"].get("width", "nan")) == pytest.approx(
        charts.scale.x(DAY0 + dt.timedelta(days=27)), abs=0.05
    )


def test_a_cycle_with_doses_missed_is_hatched_and_labelled_with_days_given_of_planned():
    given = [cycle(1, 0), cycle(2, 28, given=3)]
    charts = patient_charts(assessments=[], pnfh_results=[], cycles=given, died_on=None)
    root = parse(charts.cycles)
    bars = {r.get("data-cycle"): r for r in root.iter(f"{SVG}rect") if r.get("data-cycle")}
    assert bars["1"].get("fill") == cycles.FULL_COLOUR
    assert bars["2"].get("fill") == "url(#cycle-missed)"
    labels = {t.get("data-doses"): t.text for t in root.iter(f"{SVG}text") if t.get("data-doses")}
    assert labels == {"2": "3/5"}
    assert "3/5 days given, 6 of 10 MIU" in bars["2"].find(f"{SVG}title").text


def test_nothing_recorded_draws_no_chart():
    charts = patient_charts(assessments=[], pnfh_results=[], cycles=[], died_on=dt.date(2026, 3, 1))
    assert (charts.scale, charts.alsfrsr, charts.cycles, charts.pnfh) == (None, "", "", "")
