"""Analyst pages: download the pseudonymised dataset, its long tables and the data dictionary.

Thin: rows come from analytics.selectors (scoped by registry.selectors) and are written by
analytics.exports, which also logs every export, exactly as the API and the command do.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics import dataset, exports
from analytics.models import ExportLog


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    tables = [
        {"name": name, "description": dataset.TABLE_DESCRIPTIONS[name], "columns": len(dataset.TABLES[name])}
        for name in exports.TABLES
    ]
    recent = ExportLog.objects.filter(user=request.user)[:10]
    return render(request, "analytics/index.html", {"tables": tables, "recent_exports": recent})


@require_GET
@login_required
@transaction.non_atomic_requests
def table_download(request: HttpRequest, table: str, file_format: str) -> HttpResponse:
    """CSV is streamed row chunk by row chunk; Parquet is built in a temporary file, then sent."""
    if table not in exports.TABLES or file_format not in exports.FORMATS:
        raise Http404("No such dataset table or format.")
    if file_format == "csv":
        return exports.csv_response(table=table, user=request.user, channel=ExportLog.Channel.WEB)
    return exports.parquet_response(table=table, user=request.user, channel=ExportLog.Channel.WEB)


@require_GET
@login_required
def dictionary_download(request: HttpRequest, file_format: str) -> HttpResponse:
    if file_format not in exports.DICTIONARY_FORMATS:
        raise Http404("No such dictionary format.")
    return exports.dictionary_response(file_format=file_format, user=request.user, channel=ExportLog.Channel.WEB)


@require_GET
@login_required
def dictionary_page(request: HttpRequest) -> HttpResponse:
    tables = [
        {"name": name, "description": dataset.TABLE_DESCRIPTIONS[name], "columns": dataset.TABLES[name]}
        for name in exports.TABLES
    ]
    return render(request, "analytics/dictionary.html", {"tables": tables})
