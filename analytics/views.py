"""Analyst pages: download the pseudonymised dataset, its long tables and the data dictionary;
statistics-package exports built in the background; the overview dashboard.

Thin: rows come from analytics.selectors (scoped by registry.selectors) and are written by
analytics.exports, which also logs every export, exactly as the API and the command do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from analytics import dataset_columns, exports, selectors, services
from analytics.bundles import BUNDLE_FORMATS
from analytics.models import ExportJob, ExportLog
from registry.http import AuthenticatedHttpRequest
from registry.selectors import sees_all_sites

if TYPE_CHECKING:
    from analytics.overview import selectors as overview_selectors


@require_GET
@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    tables = [
        {
            "name": name,
            "description": dataset_columns.TABLE_DESCRIPTIONS[name],
            "columns": len(dataset_columns.TABLES[name]),
        }
        for name in exports.TABLES
    ]
    recent = ExportLog.objects.filter(user=request.user)[:10]
    context = {
        "tables": tables,
        "recent_exports": recent,
        "bundle_formats": BUNDLE_FORMATS,
        "jobs": selectors.export_jobs_of(request.user)[:10],
        "retention_hours": settings.DATASET_EXPORT_RETENTION_HOURS,
    }
    return render(request, "analytics/index.html", context)


@require_GET
@login_required
@transaction.non_atomic_requests
def table_download(request: AuthenticatedHttpRequest, table: str, file_format: str) -> HttpResponseBase:
    """CSV is streamed row chunk by row chunk; Parquet is built in a temporary file, then sent."""
    if table not in exports.TABLES or file_format not in exports.FORMATS:
        raise Http404("No such dataset table or format.")
    if file_format == "csv":
        return exports.csv_response(table=table, user=request.user, channel=ExportLog.Channel.WEB)
    return exports.parquet_response(table=table, user=request.user, channel=ExportLog.Channel.WEB)


@require_GET
@login_required
def dictionary_download(request: AuthenticatedHttpRequest, file_format: str) -> HttpResponse:
    if file_format not in exports.DICTIONARY_FORMATS:
        raise Http404("No such dictionary format.")
    return exports.dictionary_response(file_format=file_format, user=request.user, channel=ExportLog.Channel.WEB)


@require_GET
@login_required
def dictionary_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    tables = [
        {"name": name, "description": dataset_columns.TABLE_DESCRIPTIONS[name], "columns": dataset_columns.TABLES[name]}
        for name in exports.TABLES
    ]
    return render(request, "analytics/dictionary.html", {"tables": tables})


# ---- statistics-package exports --------------------------------------------------------------------
@require_POST
@login_required
def export_request(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        job = services.export_job_request(
            actor=request.user,
            table=request.POST.get("table", ""),
            file_format=request.POST.get("file_format", ""),
            channel=ExportLog.Channel.WEB,
        )
    except ValidationError as refused:
        for message in refused.messages:
            messages.error(request, message)
        return redirect("analytics:index")
    return redirect("analytics:export-job", job_id=job.pk)


def _own_job(request: AuthenticatedHttpRequest, job_id: int) -> ExportJob:
    job = selectors.export_job_of(request.user, job_id)
    if job is None:
        raise Http404("No such export.")
    return job


@require_GET
@login_required
def export_job(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    job = _own_job(request, job_id)
    return render(request, "analytics/export_job.html", {"job": job, "format_label": BUNDLE_FORMATS[job.file_format]})


@require_GET
@login_required
def export_job_status(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    """The status panel alone, polled by htmx while the job runs."""
    job = _own_job(request, job_id)
    return render(
        request, "analytics/_export_job_status.html", {"job": job, "format_label": BUNDLE_FORMATS[job.file_format]}
    )


@require_GET
@login_required
def export_job_download(request: AuthenticatedHttpRequest, job_id: int) -> FileResponse:
    return exports.export_job_file_response(_own_job(request, job_id))


# ---- the overview dashboard -------------------------------------------------------------------------
def _overview_for(request: AuthenticatedHttpRequest) -> overview_selectors.Overview:
    from analytics.overview import (
        selectors as overview_selectors,
    )  # heavy: imported when used (docs/benchmarks.md, start-up)

    if not sees_all_sites(request.user):
        raise PermissionDenied("The overview is for analysts and data managers.")
    return overview_selectors.overview(request.user, timezone.localdate())


@require_GET
@login_required
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Enrolment, status, follow-up completeness, pNFH and the last analysis run, without identifiers."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.overview import charts

    data = _overview_for(request)
    figures = [
        {"chart": chart, "headers": cells[0], "rows": cells[1]}
        for chart in charts.charts(data)
        for cells in [charts.table_cells(chart.data)]
    ]
    return render(request, "analytics/overview.html", {"data": data, "figures": figures, "now": timezone.now()})


@require_GET
@login_required
def overview_csv(request: AuthenticatedHttpRequest, name: str) -> HttpResponse:
    """The table behind one figure of the overview, as CSV."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.overview import charts

    tables = charts.chart_data(_overview_for(request))
    if name not in tables:
        raise Http404("No such figure.")
    response = HttpResponse(exports.frame_csv_text(tables[name]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="il2ld_overview_{name}_{timezone.localdate():%Y%m%d}.csv"'
    return response
