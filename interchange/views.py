"""Data-manager pages for cohort import: upload, progress (polled), report download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from interchange import rif
from interchange.forms import CohortUploadForm
from interchange.models import ImportRun
from interchange.services import (
    check_may_import,
    import_run_issues,
    import_run_start,
    import_runs_visible_to,
)
from registry.http import AuthenticatedHttpRequest

POLL_SECONDS = 2


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    check_may_import(request.user)
    form = CohortUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = import_run_start(user=request.user, files=form.cleaned_data["files"])
        return redirect("interchange:run_detail", pk=run.pk)
    runs = import_runs_visible_to(request.user)
    context = {"form": form, "runs": runs, "format": rif.version_label(), "manifest": rif.MANIFEST_NAME}
    return render(request, "interchange/upload.html", context)


@login_required
@require_GET
def run_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    check_may_import(request.user)
    run = get_object_or_404(ImportRun.objects.select_related("created_by"), pk=pk)
    context = {"run": run, "poll_seconds": POLL_SECONDS, "issues": import_run_issues(run)}
    if request.htmx:
        return render(request, "interchange/_run_status.html", context)
    return render(request, "interchange/run_detail.html", context)


@login_required
@require_GET
def run_report(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    check_may_import(request.user)
    run = get_object_or_404(ImportRun, pk=pk)
    if not run.report:
        raise Http404("This run has no report yet.")
    return FileResponse(
        run.report.open("rb"), as_attachment=True, filename=f"import-report-{run.pk}.csv", content_type="text/csv"
    )
