"""Periodic serious-adverse-event line listings, per route and period, for the company and the
MHRA: one row per safety case (`registry.icsr.line_listing_rows`), written by the exports' CSV
writer (formula-like text neutralised, RFC 4180 rows)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from analytics.exports import csv_chunks
from registry.http import AuthenticatedHttpRequest
from registry.icsr import LINE_LISTING_HEADER, line_listing_rows
from registry.models import Role
from registry.selectors import safety_cases_visible_to

#: The columns holding free text, which the CSV writer neutralises against formula injection.
TEXT_COLUMNS = [LINE_LISTING_HEADER.index(name) for name in ("term", "report_reference", "study_id")]


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_GET
@login_required
def sae_line_listing(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """`?route=&start=&end=`: cases by awareness date within the period (inclusive), per route;
    by default this month to date, all routes."""
    user = request.user
    if not (user.is_superuser or user.role == Role.DATA_MANAGER):
        raise PermissionDenied("Safety line listings are for data managers.")
    today = timezone.localdate()
    start = _day(request.GET.get("start")) if request.GET.get("start") else today.replace(day=1)
    end = _day(request.GET.get("end")) if request.GET.get("end") else today
    if start is None or end is None or end < start:
        return HttpResponse("Give the period as start and end dates (YYYY-MM-DD), start first.", status=400)
    cases = safety_cases_visible_to(user).filter(aware_at__date__gte=start, aware_at__date__lte=end)
    route = request.GET.get("route", "")
    if route:
        cases = cases.filter(route_code=route)
    rows = line_listing_rows(cases.order_by("aware_at", "pk"))
    response = StreamingHttpResponse(
        csv_chunks(LINE_LISTING_HEADER, [rows], TEXT_COLUMNS, [0]), content_type="text/csv; charset=utf-8"
    )
    name = f"il2ld_sae_line_listing_{route or 'all'}_{start:%Y%m%d}_{end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
