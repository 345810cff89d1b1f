"""The specials register's inspection export, per period and site: CSV (through registry.safe_csv)
and PDF (WeasyPrint), for an MHRA inspection (Human Medicines Regulations 2012 reg. 170; MHRA
Guidance Note 14). The register page is the pharmacy's (pharmacy.specials); the export lives
here so that it is written to the export log (`ExportLog`, table "specials_register") like every
other download, and the names it holds to the identity access log."""

from __future__ import annotations

import io
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from access_programme import selectors
from access_programme.selectors import SpecialsFilter
from analytics.exports import export_log_finish, export_log_start
from analytics.models import ExportLog
from registry import safe_csv
from registry.http import AuthenticatedHttpRequest
from registry.models import User
from registry.pdf import html_pdf
from registry.roles import Area, may_write

TABLE = "specials_register"
#: A PDF holds at most this many supplies; a longer period is exported as CSV or split.
PDF_MAX_ROWS = 2000


def _filter_or_refusal(request: AuthenticatedHttpRequest) -> SpecialsFilter | HttpResponse:
    if not may_write(request.user, Area.PHARMACY):
        raise PermissionDenied("The specials register is for pharmacists and data managers.")
    wanted, errors = selectors.specials_filter(request.user, request.GET, timezone.localdate())
    if errors:
        return HttpResponse(" ".join(errors), status=400, content_type="text/plain; charset=utf-8")
    return wanted


def _filename(wanted: SpecialsFilter, extension: str) -> str:
    site = f"_{wanted.site.code}" if wanted.site else ""
    return f"il2ld_specials_register{site}_{wanted.start:%Y%m%d}_{wanted.end:%Y%m%d}.{extension}"


def _csv_lines(user: User, wanted: SpecialsFilter, path: str) -> Iterator[bytes]:
    """The register as CSV, logged when it starts and when its last row is out."""
    log = export_log_start(user=user, table=TABLE, file_format="csv", channel=ExportLog.Channel.WEB)
    rows, completed = 0, False
    buffer = io.StringIO()
    writer = safe_csv.writer(buffer)  # every text cell neutralised; numbers written as they are
    try:
        writer.writerow(selectors.SPECIALS_CSV_HEADER)
        # its own transaction: the response is streamed after the view's has ended
        with transaction.atomic():
            for chunk in selectors.specials_register_chunks(user, wanted, path=path):
                writer.writerows([selectors.specials_csv_row(row) for row in chunk])
                rows += len(chunk)
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")
        completed = True
    finally:
        export_log_finish(log, rows=rows, completed=completed)


@login_required
@require_GET
def specials_register_csv(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    wanted = _filter_or_refusal(request)
    if isinstance(wanted, HttpResponse):
        return wanted
    response = StreamingHttpResponse(
        _csv_lines(request.user, wanted, request.path), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(wanted, "csv")}"'
    return response


@login_required
@require_GET
def specials_register_pdf(request: AuthenticatedHttpRequest) -> HttpResponse:
    wanted = _filter_or_refusal(request)
    if isinstance(wanted, HttpResponse):
        return wanted
    count = selectors.specials_supplies(request.user, wanted).count()
    if count > PDF_MAX_ROWS:
        return HttpResponse(
            f"{count} supplies in this period: a PDF holds at most {PDF_MAX_ROWS}. "
            "Export a shorter period, or the CSV.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    log = export_log_start(user=request.user, table=TABLE, file_format="pdf", channel=ExportLog.Channel.WEB)
    rows = [
        row for chunk in selectors.specials_register_chunks(request.user, wanted, path=request.path) for row in chunk
    ]
    html = render_to_string(
        "pharmacy/specials_register_pdf.html",
        {"rows": rows, "wanted": wanted, "made_by": request.user, "made_at": timezone.now()},
    )
    pdf = html_pdf(html)
    export_log_finish(log, rows=len(rows))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(wanted, "pdf")}"'
    return response
