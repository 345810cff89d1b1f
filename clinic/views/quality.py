"""Data quality: the per-site page, a query's page (answer, close, re-open), raising a query."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access_programme import selectors as programme
from clinic.quality_forms import QueryAnswerForm, QueryDecisionForm, QueryRaiseForm
from clinic.views.common import patient_url
from registry import services
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.models import ClinicalRecord, DataQuery, Patient, QueryStatus, User
from registry.roles import Area, may_write
from registry.selectors import (
    data_queries_visible_to,
    record_history,
    site_quality,
    sites_visible_to,
    unsigned_casebooks,
)

QUERY_PAGE_SIZE = 50


@login_required
@require_GET
def quality_overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One site's data quality: open queries by age, visit completeness, unsigned casebooks."""
    sites = list(sites_visible_to(request.user).order_by("code"))
    if not sites:
        raise PermissionDenied("You have no site.")
    code = request.GET.get("site") or sites[0].code
    site = next((s for s in sites if s.code == code), None)
    if site is None:
        raise Http404("No such site of yours.")
    status = request.GET.get("status", QueryStatus.OPEN)
    if status not in QueryStatus.values:
        status = QueryStatus.OPEN
    queries = data_queries_visible_to(request.user).filter(patient__site=site, status=status)
    page = Paginator(queries, QUERY_PAGE_SIZE).get_page(request.GET.get("page"))
    summary = site_quality(site, timezone.localdate(), unsigned_casebooks=unsigned_casebooks(site).count())
    return render(
        request,
        "clinic/quality_overview.html",
        {
            "sites": sites,
            "site": site,
            "q": summary,
            "page": page,
            "status": status,
            "statuses": QueryStatus.choices,
            "query_string": f"site={site.code}&status={status}",
        },
    )


def _visible_query(request: AuthenticatedHttpRequest, pk: int) -> DataQuery:
    return get_object_or_404(data_queries_visible_to(request.user), pk=pk)


@login_required
@require_GET
def query_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    query = _visible_query(request, pk)
    return _query_page(request, query, QueryAnswerForm(), QueryDecisionForm())


def _query_page(
    request: AuthenticatedHttpRequest,
    query: DataQuery,
    answer_form: QueryAnswerForm,
    decision_form: QueryDecisionForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "query": query,
        "patient": query.patient,
        "record": query.record,
        "entries": record_history(query),
        "answer_form": answer_form,
        "decision_form": decision_form,
        "may_answer": may_write(request.user, Area.QUERY_ANSWER) and query.status == QueryStatus.OPEN,
        "may_manage": may_write(request.user, Area.QUERY_MANAGE),
    }
    return render(request, "clinic/query_detail.html", context, status=status)


@login_required
@require_POST
def query_act(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """Answer (the site), close or re-open (the data manager); a refusal is shown on the form."""
    query = _visible_query(request, pk)
    answer_form, decision_form = QueryAnswerForm(), QueryDecisionForm()
    try:
        if action == "answer":
            answer_form = QueryAnswerForm(request.POST)
            answer = request.POST.get("answer", "")
            services.data_query_answer(actor=request.user, query=query, answer=answer)
            done = "Answer sent to the data manager."
        elif action in ("close", "reopen"):
            decision_form = QueryDecisionForm(request.POST)
            reason = request.POST.get("reason", "")
            service = services.data_query_close if action == "close" else services.data_query_reopen
            service(actor=request.user, query=query, reason=reason)
            done = "Query closed." if action == "close" else "Query re-opened for the site."
        else:
            raise Http404("No such action.")
    except ValidationError as error:
        form = answer_form if action == "answer" else decision_form
        form.is_valid()
        add_service_errors(form, error)
        return _query_page(request, _visible_query(request, pk), answer_form, decision_form, status=400)
    messages.success(request, done)
    return redirect("clinic:query_detail", pk=query.pk)


def _record_choices(patient: Patient, user: User) -> dict[str, tuple[ClinicalRecord, str]]:
    """The records of the patient a query may be raised on, with their labels, by `app.model:pk`."""
    overview = programme.patient_overview(patient, user, timezone.localdate())
    choices: list[tuple[ClinicalRecord, str]] = [(patient, f"Patient {patient.study_id}")]
    choices += [(e.record, f"{e.date:%d %b %Y} · {e.title}") for e in overview.timeline if e.record is not None]
    records: dict[str, tuple[ClinicalRecord, str]] = {}
    for record, label in choices:
        content_type = ContentType.objects.get_for_model(record)
        records.setdefault(f"{content_type.app_label}.{content_type.model}:{record.pk}", (record, label))
    return records


@login_required
@require_http_methods(["GET", "POST"])
def query_create(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """A data manager raises a query by hand on one of the patient's records."""
    patient = get_object_or_404(programme.patient_page_queryset(request.user), study_id=study_id)
    if not may_write(request.user, Area.QUERY_MANAGE):
        raise PermissionDenied("Only data managers raise queries.")
    records = _record_choices(patient, request.user)
    form = QueryRaiseForm(request.POST or None, records=[(key, label) for key, (_, label) in records.items()])
    if request.method == "POST" and form.is_valid():
        try:
            query = services.data_query_raise(
                actor=request.user,
                record=records[form.cleaned_data["record"]][0],
                field_name=form.cleaned_data["field_name"].strip(),
                severity=form.cleaned_data["severity"],
                message=form.cleaned_data["message"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Query raised for {patient.study_id}.")
            return redirect(reverse("clinic:query_detail", args=[query.pk]))
    return render(request, "clinic/query_form.html", {"form": form, "patient": patient, "back": patient_url(patient)})
