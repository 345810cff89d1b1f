"""The patient's one-page summary as a PDF, to print for the notes (issue 15, item 6).

The same patients and roles as the patient page (its queryset, so other sites' patients are a
404). The summary carries no direct identifier whatever the role: the study id, site, route and
status, and the clinical data. So no identity is read and no identity read is logged. The
response is `no-store` like every page of a signed-in user (accounts.sessions.NoStoreMiddleware);
the view sets it too, so the rule holds wherever the view is mounted.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from access_programme import selectors as programme
from clinic.charts import overview_charts
from clinic.views.common import verified_signatures
from registry.http import AuthenticatedHttpRequest
from registry.pdf import html_pdf

#: The printed summary lists at most this many open adverse events and signatures, so it stays
#: on one page; the rest are counted and the patient page lists them all.
SUMMARY_LIST_LIMIT = 6


@login_required
@require_GET
@never_cache
def patient_summary_pdf(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    patient = get_object_or_404(programme.patient_page_queryset(request.user), study_id=study_id)
    today = timezone.localdate()
    overview = programme.patient_overview(patient, request.user, today, with_identity=False)
    signatures = [s for s in verified_signatures(patient) if s.is_valid]
    open_events = overview.open_adverse_events
    html = render_to_string(
        "clinic/patient_summary_pdf.html",
        {
            "o": overview,
            "patient": patient,
            "charts": overview_charts(overview, prefix="pdf-"),
            "open_events": open_events[:SUMMARY_LIST_LIMIT],
            "more_events": max(0, len(open_events) - SUMMARY_LIST_LIMIT),
            "signatures": signatures[:SUMMARY_LIST_LIMIT],
            "more_signatures": max(0, len(signatures) - SUMMARY_LIST_LIMIT),
            "short_cycles": [row for row in overview.cycle_rows if row.cycle.doses_missed],
            "printed_at": timezone.localtime(),
            "printed_by": request.user.get_full_name() or request.user.username,
        },
    )
    response = HttpResponse(html_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="summary-{patient.study_id}.pdf"'
    return response
