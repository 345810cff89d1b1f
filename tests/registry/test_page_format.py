"""Row links and dates formatted once per page (registry.templatetags.page_format): the same text
as `{% url %}` and `|date` give, for every pattern and value the pages use them with."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation

from registry.templatetags.page_format import UrlFormat


def render(source: str, **context: object) -> str:
    return engines["django"].from_string("{% load page_format %}" + source).render(context)


@pytest.mark.parametrize(
    ("viewname", "args"),
    [
        ("clinic:patient_detail", ["GB-LON-0001"]),
        ("clinic:patient_detail", ["imported_Cohort-7"]),
        ("clinic:record_edit", ["GB-LON-0001", "biomarker", 12]),
        ("clinic:record_history", ["FR-PAR-0203", "adverse-event", 7]),
        ("clinic:sign_visit", ["GB-SHF-0042", 3]),
        ("clinic:unlock", ["GB-SHF-0042", 99]),
        ("clinic:query_detail", [5]),
        ("pharmacy:dispense", ["GB-OXF-1000"]),
        ("pharmacy:batch_detail", [73]),
    ],
)
def test_a_row_url_is_the_url_that_reverse_gives(viewname, args):
    assert UrlFormat(viewname, len(args)).format(*args) == reverse(viewname, args=args)


def test_the_tags_render_what_the_url_tag_renders():
    rows = [{"sid": "GB-LON-0001", "kind": "biomarker", "pk": 1}, {"sid": "GB-LON-0002", "kind": "event", "pk": 20}]
    url_tag = "{% for r in rows %}{% url 'clinic:record_history' r.sid r.kind r.pk %};{% endfor %}"
    format_tags = (
        "{% url_format 'clinic:record_history' 'study_id' 'kind' 'pk' as history %}"
        "{% for r in rows %}{% url_from history r.sid r.kind r.pk %};{% endfor %}"
    )

    assert render(format_tags, rows=rows) == render(url_tag, rows=rows)


def test_an_argument_is_quoted_as_reverse_quotes_it_and_never_adds_a_path_segment():
    url = UrlFormat("clinic:record_history", 3)

    assert url.format("GB-LON-0001", "a kind é", 1) == "/patients/GB-LON-0001/a%20kind%20%C3%A9/1/history/"
    assert url.format("GB-LON-0001", "a/b", 1) == "/patients/GB-LON-0001/a%2Fb/1/history/"


def test_a_row_url_with_the_wrong_number_of_arguments_is_refused():
    with pytest.raises(ValueError, match="takes 3 argument"):
        UrlFormat("clinic:record_history", 3).format("GB-LON-0001", 1)


DAYS = [dt.date(2026, 1, 1), dt.date(2026, 12, 3), dt.date(1999, 2, 28), dt.date(2024, 2, 29), dt.date(5, 5, 5)]


@pytest.mark.parametrize("language", ["en-gb", "fr"])
@pytest.mark.parametrize("day", DAYS)
def test_a_date_reads_as_the_date_filter_writes_it(day, language):
    with translation.override(language):
        assert render("{{ d|day_month_year }}", d=day) == render('{{ d|date:"d M Y" }}', d=day)
        assert render("{{ d|weekday_day_month_year }}", d=day) == render('{{ d|date:"D d M Y" }}', d=day)
        assert render("{{ d|year_month_day }}", d=day) == render('{{ d|date:"Y-m-d" }}', d=day)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 1, 23, 30, tzinfo=zoneinfo.ZoneInfo("UTC")),
    ],
)
def test_a_datetime_or_nothing_reads_as_the_date_filter_writes_it(value):
    assert render("{{ d|day_month_year }}", d=value) == render('{{ d|date:"d M Y" }}', d=value)
    assert render("{{ d|weekday_day_month_year }}", d=value) == render('{{ d|date:"D d M Y" }}', d=value)
    assert render("{{ d|year_month_day }}", d=value) == render('{{ d|date:"Y-m-d" }}', d=value)
