"""A clinician reads a year of a patient's follow-up on the patient page in headless Chromium:
ALSFRS-R with King's and MiToS under each visit, the treatment cycles and CSF pNFH against the
MIROCALS bands on the same time axis, and prints the one-page summary. The screenshot goes to
docs/screenshots/patient-charts.png."""

from __future__ import annotations

from decimal import Decimal

import pytest

from access_programme.models import Route
from registry import services
from registry.models import Role
from tests.browser.axe import axe_violations
from tests.browser.journeys import account, shot
from tests.factories import (
    NORMAL_ALSFRSR_ITEMS,
    CycleFactory,
    DiagnosisFactory,
    EnrolmentFactory,
    PatientFactory,
    SiteFactory,
    days_ago,
    pnfh_recorded,
)

pytestmark = [
    pytest.mark.requirement("CLN-04"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

#: Visits every 13 weeks, losing a region, then independence in walking and in swallowing.
VISITS = (
    (364, {"q8_walking": 3}),
    (273, {"q8_walking": 3, "q9_climbing_stairs": 3, "q4_handwriting": 3}),
    (182, {"q8_walking": 2, "q9_climbing_stairs": 2, "q4_handwriting": 3, "q1_speech": 3, "q3_swallowing": 3}),
    (91, {"q8_walking": 1, "q9_climbing_stairs": 1, "q4_handwriting": 2, "q1_speech": 3, "q3_swallowing": 2}),
    (
        7,
        {
            "q8_walking": 1,
            "q9_climbing_stairs": 0,
            "q4_handwriting": 2,
            "q1_speech": 2,
            "q3_swallowing": 1,
            "q10_dyspnoea": 3,
        },
    ),
)


def a_year_of_follow_up(site):
    patient = PatientFactory(site=site)
    DiagnosisFactory(
        patient=patient,
        symptom_onset_date=days_ago(700),
        diagnosis_date=days_ago(420),
        riluzole_start_date=days_ago(410),
    )
    EnrolmentFactory(
        patient=patient,
        route=Route.objects.get(code="nhs_specials"),
        enrolment_date=days_ago(370),
        first_dose_date=days_ago(364),
    )
    for number in range(1, 14):
        short = number == 6
        CycleFactory(
            patient=patient,
            cycle_number=number,
            start_date=days_ago(364 - 28 * (number - 1)),
            days_administered=3 if short else 5,
            total_dose_miu=Decimal(6 if short else 10),
            interrupted=short,
            interruption_reason="Injection-site reaction" if short else "",
        )
    for days, items in VISITS:
        services.alsfrsr_record(
            actor=None, patient=patient, assessment_date=days_ago(days), **{**NORMAL_ALSFRSR_ITEMS, **items}
        )
    for days, value in ((360, "2.9"), (180, "3.3"), (30, "4.1")):
        pnfh_recorded(patient, days, value)
    return patient


def test_a_clinician_reads_alsfrs_r_stages_cycles_and_pnfh_on_one_time_axis_and_prints_the_summary(
    page, live_server, sign_in
):
    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("alice", Role.CLINICIAN, london)
    patient = a_year_of_follow_up(london)

    sign_in(page, "alice")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/patients/{patient.study_id}/")

    alsfrsr = page.locator("section[aria-labelledby=chart-title] svg")
    cycles = page.locator("section[aria-labelledby=cycles-title] svg")
    pnfh = page.locator("section[aria-labelledby=pnfh-title] svg")
    kings = alsfrsr.locator("text[data-stage=kings_stage]").all_text_contents()
    mitos = alsfrsr.locator("text[data-stage=mitos_stage]").all_text_contents()
    assert (kings, mitos) == (["1", "2", "3", "3", "3"], ["0", "0", "0", "1", "2"])
    assert cycles.locator("rect[data-cycle]").count() == 13
    assert cycles.locator("text[data-doses='6']").text_content() == "3/5"
    # The first visit and cycle 1 were on the same day: one x on screen, in both charts.
    first_visit = alsfrsr.locator("circle[data-testid=total-point]").first.bounding_box()
    first_cycle = cycles.locator("rect[data-cycle='1']").bounding_box()
    assert first_visit and first_cycle
    assert abs(first_visit["x"] + first_visit["width"] / 2 - first_cycle["x"]) < 1.5
    # The last pNFH (4100 pg/mL) is drawn in the high band, above the 3700 edge.
    last = pnfh.locator("circle[data-testid=pnfh-point]").last.bounding_box()
    edge = pnfh.locator("line[data-edge='3700']").bounding_box()
    assert last and edge and last["y"] + last["height"] / 2 < edge["y"]
    assert pnfh.get_by_text("High", exact=True).is_visible()
    assert axe_violations(page) == []
    shot(page, "patient-charts")

    page.get_by_text("pNFH results as a table").click()
    table = page.locator("section[aria-labelledby=pnfh-title] table").inner_text()
    assert "4100" in table and "High (> 3700 pg/mL)" in table
    page.get_by_text("Cycles as a table").click()
    assert "Injection-site reaction" in page.locator("section[aria-labelledby=cycles-title] table").inner_text()

    link = page.get_by_role("link", name="Print summary (PDF)")
    response = page.request.get(f"{live_server.url}{link.get_attribute('href')}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert "no-store" in response.headers["cache-control"]
