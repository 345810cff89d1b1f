"""The survival results page leads with the answer, shows labels not codes, and offers each
figure's numbers; the run history shows the newest runs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics.survival import selectors, services
from analytics.survival.models import AnalysisRun, RunStatus
from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RAW_CODES = re.compile(r"csf_pnfh|below_750|managed_access|nhs_specials|route:\w|stratum:\w|\b0\.000\b")


class _Text(HTMLParser):
    """The page's text as a reader (or a screen reader) meets it: no tags, attributes or URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


@pytest.fixture
def completed_run():
    seed_cohort(patients=60, seed=21, as_of=timezone.localdate())
    run = services.survival_run_request(user=None, trigger="command", enqueue=False)
    services.survival_run_execute(run.pk)
    return AnalysisRun.objects.get(pk=run.pk)


@pytest.fixture
def analyst_client(client):
    login_with_second_factor(client, UserFactory(role=Role.ANALYST))
    return client


def test_the_page_leads_with_the_primary_estimate_before_any_detail_table(completed_run, analyst_client):
    page = analyst_client.get("/analytics/survival/").content.decode()
    estimate = completed_run.results["emulation"]["primary_analysis"]["estimate"]
    answer = page.index("a standardised mortality ratio of")
    assert f"{estimate['smr']:.2f} (95% CI" in page[answer:]
    assert answer < page.index("<svg") < page.index("<details")
    assert "It is not evidence that the treatment works." in page


def test_the_page_shows_labels_never_codes_or_zero_p_values(completed_run, analyst_client):
    text = visible_text(analyst_client.get("/analytics/survival/").content.decode())
    assert RAW_CODES.findall(text) == []


def test_every_figure_has_alt_text_and_the_km_plots_a_table_of_numbers_at_risk(completed_run, analyst_client):
    page = analyst_client.get("/analytics/survival/").content.decode()
    for name in ("km_primary", "forest_subgroups", "km_by_route", "km_by_pnfh_stratum"):
        assert f'role="img" aria-labelledby="{name}-title"' in page
        assert f'<title id="{name}-title">' in page
    assert page.count("<caption") >= 3 and page.count(">Numbers at risk</caption>") == 3


def test_the_csv_behind_the_forest_plot_holds_the_plotted_estimates(completed_run, analyst_client):
    response = analyst_client.get(f"/analytics/survival/runs/{completed_run.pk}/figures/forest_subgroups.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    primary = completed_run.results["emulation"]["primary_analysis"]
    assert rows[0]["variable"] == "All"
    assert float(rows[0]["smr"]) == pytest.approx(primary["estimate"]["smr"])
    assert len(rows) == 1 + len([r for r in primary["subgroups"] if "smr" in r])


def test_the_png_of_a_figure_is_drawn_from_the_same_results(completed_run, analyst_client):
    response = analyst_client.get(f"/analytics/survival/runs/{completed_run.pk}/figures/km_primary.png")
    assert response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_figure_is_not_found(completed_run, analyst_client):
    assert analyst_client.get(f"/analytics/survival/runs/{completed_run.pk}/figures/nothing.csv").status_code == 404


def _finished_run(minutes_ago: int, smr: float) -> AnalysisRun:
    finished = timezone.now() - dt.timedelta(minutes=minutes_ago)
    primary = {"estimate": {"smr": smr, "smr_ci_lower": smr / 2, "smr_ci_upper": smr * 2}}
    return AnalysisRun.objects.create(
        status=RunStatus.SUCCEEDED,
        finished_at=finished,
        results={"cohort": {"n": 10, "os_events": 2}, "emulation": {"primary_analysis": primary}},
    )


def test_the_trend_keeps_the_newest_runs_oldest_first():
    runs = [_finished_run(minutes_ago=100 - i, smr=0.5 + i / 100) for i in range(35)]
    trend = selectors.trend(limit=30)
    assert [point["run"] for point in trend] == [run.pk for run in runs[5:]]
    assert trend[-1]["primary_smr"] == pytest.approx(0.84)
