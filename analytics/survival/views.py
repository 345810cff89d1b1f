"""Analyst dashboard for the survival comparisons: thin views over services and selectors."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from analytics.exports import frame_csv_text
from analytics.survival import formatting, selectors, services
from analytics.survival.models import AnalysisRun, Benchmark, RunReport, RunStatus
from registry.http import AuthenticatedHttpRequest


def analysts_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.may_run_analyses(request.user):
            raise PermissionDenied("The survival dashboard is for analysts and data managers.")
        return view(request, *args, **kwargs)

    return wrapped


def _succeeded(run_id: int) -> AnalysisRun:
    run = get_object_or_404(AnalysisRun, pk=run_id)
    if run.status != RunStatus.SUCCEEDED:
        raise Http404("This run has no results.")
    return run


def _results(run: AnalysisRun) -> dict[str, Any]:
    """A succeeded run's results (every succeeded run has them)."""
    if run.results is None:
        raise Http404("This run has no results.")
    return run.results


def _results_context(run: AnalysisRun | None) -> dict[str, Any]:
    if run is None:
        return {"run": None}
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.survival.figures import result_figures

    results = _results(run)
    return {
        "run": run,
        "results": results,
        "summary": formatting.primary_summary(results),
        "figures": result_figures(results, run.figures),
        "parameters": formatting.parameter_rows(run.parameters),
        "archived": selectors.archived_report(run),
        "km_os": selectors.km_table(results, "os"),
        "km_composite": selectors.km_table(results, "composite"),
        "tables": selectors.TABLES,
    }


@require_GET
@analysts_only
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _results_context(selectors.latest_succeeded_run())
    active = selectors.active_run()
    context.update({"active": active, "recent": selectors.runs()[:10], "trend": selectors.trend()})
    if active:
        context["progress"] = selectors.run_progress(active, timezone.now())
    return render(request, "survival/dashboard.html", context)


@require_GET
@analysts_only
def run_detail(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    context = _results_context(_succeeded(run_id))
    context.update({"active": None, "recent": [], "trend": []})
    return render(request, "survival/dashboard.html", context)


@require_POST
@analysts_only
@transaction.non_atomic_requests  # the run is sent (or, eager, computed) when the service commits
def run_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    run = services.survival_run_request(user=request.user, trigger="manual")
    if run.status == RunStatus.SUCCEEDED:  # reused: nothing changed since
        messages.info(request, f"Nothing has changed since run {run.pk}: its results are shown.")
        return redirect("survival:dashboard")
    run.refresh_from_db(fields=["status"])  # computed already when tasks run eagerly (the demo)
    if run.status == RunStatus.SUCCEEDED:
        messages.success(request, f"Run {run.pk} finished: its results are shown below.")
    else:
        messages.success(request, f"Run {run.pk} is queued and runs in the background; its progress is shown below.")
    return redirect("survival:dashboard")


@require_GET
@analysts_only
def run_progress(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(AnalysisRun.objects.defer("results", "figures"), pk=run_id)
    context = {"active": run, "progress": selectors.run_progress(run, timezone.now())}
    response = render(request, "survival/_progress.html", context)
    if not run.is_active and request.htmx:
        response["HX-Refresh"] = "true"  # results are ready: reload the dashboard
    return response


@require_GET
@analysts_only
def download_json(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    run = _succeeded(run_id)
    response = HttpResponse(services.as_json(run), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="survival-run-{run.pk}.json"'
    return response


@require_GET
@analysts_only
def download_table(request: AuthenticatedHttpRequest, run_id: int, table: str) -> HttpResponse:
    run = _succeeded(run_id)
    if table not in selectors.TABLES:
        raise Http404("No such table.")
    response = HttpResponse(selectors.table_csv(_results(run), table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="survival-run-{run.pk}-{table}.csv"'
    return response


@require_GET
@analysts_only
def download_figure(request: AuthenticatedHttpRequest, run_id: int, name: str, fmt: str) -> HttpResponse:
    """A figure of the results page as SVG or PNG, or the numbers it plots as CSV."""
    # heavy: imported when used (docs/benchmarks.md, start-up)
    from analytics.survival.figures import result_figures

    run = _succeeded(run_id)
    figure = next((f for f in result_figures(_results(run), run.figures) if f.name == name), None)
    if figure is None:
        raise Http404("No such figure.")
    body: str | bytes
    if fmt == "svg":
        body, content_type = f'<?xml version="1.0" encoding="utf-8"?>\n{figure.svg}', "image/svg+xml"
    elif fmt == "png":
        body, content_type = figure.png, "image/png"
    else:
        body, content_type = frame_csv_text(figure.data), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="survival-run-{run.pk}-{name}.{fmt}"'
    return response


@require_GET
@analysts_only
def download_archived(request: AuthenticatedHttpRequest, run_id: int, kind: str) -> HttpResponse:
    """The run's archived PDF report or analysis package, exactly as written when it finished."""
    run = _succeeded(run_id)
    report = RunReport.objects.filter(run=run).first()
    if report is None:
        raise Http404("This run has no archived report (it was computed before reports were archived).")
    if kind == "pdf":
        body, content_type, name = bytes(report.pdf), "application/pdf", f"survival-report-run-{run.pk}.pdf"
    else:
        body, content_type, name = bytes(report.package), "application/zip", f"survival-run-{run.pk}-package.zip"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@analysts_only
def download_report(request: AuthenticatedHttpRequest, run_id: int) -> HttpResponse:
    """A self-contained HTML report (figures inline) to send to a regulator or print to PDF."""
    run = _succeeded(run_id)
    context = _results_context(run)
    context["results_json"] = json.dumps(_results(run)["caveats"], indent=2)
    html = render_to_string("survival/report.html", context, request=request)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="survival-report-run-{run.pk}.html"'
    return response


class BenchmarkForm(forms.ModelForm):
    class Meta:
        model = Benchmark
        fields = [
            "code",
            "trial",
            "label",
            "kind",
            "arm",
            "stratum",
            "comparison",
            "value",
            "ci_lower",
            "ci_upper",
            "time_days",
            "n",
            "points",
            "text",
            "provenance",
            "source",
        ]
        widgets = {"source": forms.Textarea(attrs={"rows": 2}), "text": forms.Textarea(attrs={"rows": 2})}

    def validate_unique(self) -> None:
        """Versions are assigned by the service; uniqueness is checked there."""


@analysts_only
def benchmark_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BenchmarkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "code"}
        try:
            benchmark = services.benchmark_revise(user=request.user, code=form.cleaned_data["code"], **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved {benchmark}.")
            return redirect("survival:benchmarks")
    return render(request, "survival/benchmarks.html", {"benchmarks": selectors.benchmarks(), "form": form})
