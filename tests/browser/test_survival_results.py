"""The survival results page in headless Chromium: the answer first, Kaplan-Meier plots with their
numbers at risk, a forest plot, words rather than codes, WCAG 2.2 AA, and no sideways scrolling on
a tablet (768 px) or a phone (390 px); a run in the background shows its progress and updates itself.

With UPDATE_SCREENSHOTS=1 the tests also save the pictures in docs/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access_programme.demo_cohort import seed_cohort
from analytics.survival import services
from analytics.survival.models import AnalysisRun, RunStatus
from registry.models import Role
from tests.browser.axe import axe_violations, horizontal_overflow
from tests.browser.test_clinical_journeys import account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORTS = {"768px": {"width": 768, "height": 1024}, "390px": {"width": 390, "height": 844}}
RAW_CODES = re.compile(r"csf_pnfh|below_750|managed_access|nhs_specials|route:\w|stratum:\w|\b0\.000\b")


def screenshot(page, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def results_page(sign_in, page, live_server):
    seed_cohort(patients=60, seed=21, as_of=timezone.localdate())
    run = services.survival_run_request(user=None, trigger="command", enqueue=False)
    services.survival_run_execute(run.pk)
    account("ana", Role.ANALYST)
    sign_in(page, "ana")
    page.goto(f"{live_server.url}/analytics/survival/")
    return page


def test_the_first_thing_under_the_title_is_the_answer_in_one_sentence(results_page):
    first = results_page.locator("main h2").first
    assert first.inner_text().startswith("The answer")
    assert "standardised mortality ratio of" in results_page.locator("section.answer p.lead").inner_text()
    screenshot(results_page, "survival-results")


def test_each_km_plot_has_its_numbers_at_risk_beneath(results_page):
    assert results_page.get_by_role("table", name="Numbers at risk").count() == 3
    assert results_page.get_by_role("img", name=re.compile("^Survival from first dose")).is_visible()
    assert "at risk at 0 days" in results_page.locator("#km_primary-title").text_content()


def test_the_forest_plot_of_subgroups_is_drawn_with_alt_text(results_page):
    forest = results_page.get_by_role("img", name=re.compile("Deaths observed against the MIROCALS placebo arm"))
    assert forest.is_visible()
    assert "Sex, Female" in results_page.locator("#forest_subgroups-title").text_content()


def test_the_page_shows_no_raw_codes(results_page):
    results_page.locator("details").evaluate_all("nodes => nodes.forEach(n => n.open = true)")
    assert RAW_CODES.findall(results_page.locator("main").inner_text()) == []


def test_the_results_page_passes_the_axe_wcag_22_aa_check(results_page):
    assert axe_violations(results_page) == []


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_the_results_page_fits_the_screen_without_sideways_scrolling(results_page, width):
    results_page.set_viewport_size(VIEWPORTS[width])
    results_page.locator("details").evaluate_all("nodes => nodes.forEach(n => n.open = true)")
    assert horizontal_overflow(results_page) <= 0
    screenshot(results_page, f"survival-results-{width}")


def test_a_background_run_shows_its_progress_and_updates_itself(sign_in, page, live_server):
    now = timezone.now()
    run = AnalysisRun.objects.create(
        status=RunStatus.RUNNING,
        started_at=now - dt.timedelta(seconds=40),
        heartbeat_at=now,
        progress_done=3,
        progress_total=9,
        progress_step="cox",
        attempts=1,
    )
    account("ana", Role.ANALYST)
    sign_in(page, "ana")
    page.goto(f"{live_server.url}/analytics/survival/")
    status = page.locator("#run-progress-step")
    assert status.inner_text().startswith("Step 3 of 9 done: now Cox models.")
    screenshot(page, "survival-run-progress")
    AnalysisRun.objects.filter(pk=run.pk).update(progress_done=7, progress_step="emulation")
    expect(status).to_contain_text("Step 7 of 9 done: now the emulated trial.", timeout=15_000)
    assert axe_violations(page) == []
