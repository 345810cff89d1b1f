"""The clinicians' home, patient list, enrolment and patient page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access_programme import selectors as programme
from access_programme import services as programme_services
from clinic import forms
from clinic.charts import overview_charts
from clinic.views.common import patient_url, require_clinical_writer, verified_signatures
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.models import (
    QueryStatus,
    Role,
    SignatureScope,
)
from registry.roles import Area, may_write
from registry.selectors import (
    data_queries_visible_to,
    death_loose_ends,
    fatal_events_without_death,
    sites_visible_to,
    user_sites,
)


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each role lands on its daily work."""
    if request.user.role == Role.PHARMACIST:
        return redirect("pharmacy:worklist")
    return redirect("clinic:patient_list")


# --- patient list ------------------------------------------------------------------------


@login_required
@require_GET
def patient_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    sites = user_sites(request.user)
    filter_form = forms.PatientFilterForm(request.GET or None, sites=sites, routes=list(programme.routes()))
    today = timezone.localdate()
    found = programme.patient_list_page(
        request.user, today=today, page=request.GET.get("page"), **_list_filters(filter_form)
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/patient_list.html",
        {
            "filter_form": filter_form,
            "page": found.page,
            "rows": found.rows,
            "query_string": query.urlencode(),
            "may_enrol": may_write(request.user, Area.CLINICAL),
        },
    )


def _list_filters(form: forms.PatientFilterForm) -> dict[str, str]:
    names = {"q": "query", "site": "site", "route": "route", "status": "status", "due": "due", "sort": "sort"}
    return {names[key]: value for key, value in form.filters().items()}


# --- enrolment ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_clinical_writer(request.user)
    sites = sites_visible_to(request.user).order_by("code")
    form = forms.EnrolmentForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = programme_services.patient_enrol(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{enrolment.patient.study_id} enrolled ({enrolment.route.name}).")
            return redirect(patient_url(enrolment.patient))
    unmet = form.unmet_criteria()
    return render(request, "clinic/enrol.html", {"form": form, "unmet": unmet, "checked": form.is_bound})


@login_required
@require_POST
def enrol_eligibility(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The MIROCALS check as the clinician types (htmx partial); nothing is saved."""
    require_clinical_writer(request.user)
    form = forms.EnrolmentForm(request.POST, sites=sites_visible_to(request.user))
    return render(request, "clinic/_eligibility.html", {"unmet": form.unmet_criteria(), "checked": True})


# --- patient page ------------------------------------------------------------------------


@login_required
@require_GET
def patient_detail(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    patient = get_object_or_404(programme.patient_page_queryset(request.user), study_id=study_id)
    overview = programme.patient_overview(patient, request.user, timezone.localdate())
    timeline_form = forms.TimelineFilterForm(request.GET or None)
    if timeline_form.is_valid():
        overview.timeline = programme.timeline_filtered(overview.timeline, **timeline_form.cleaned_data)
    signatures = verified_signatures(patient)
    casebook = next((s for s in signatures if s.is_valid and s.scope == SignatureScope.CASEBOOK), None)
    signed_visits = {s.record_id for s in signatures if s.is_valid and s.scope == SignatureScope.VISIT}
    return render(
        request,
        "clinic/patient_detail.html",
        {
            "o": overview,
            "patient": patient,
            "charts": overview_charts(overview),
            "may_write": may_write(request.user, Area.CLINICAL) and casebook is None,
            "may_dispense": may_write(request.user, Area.PHARMACY) and casebook is None,
            "signatures": signatures,
            "timeline_form": timeline_form,
            "casebook_signature": casebook,
            "signed_visits": signed_visits,
            "may_sign": may_write(request.user, Area.SIGN),
            "may_unlock": may_write(request.user, Area.UNLOCK),
            "loose_ends": death_loose_ends(patient, overview.deceased_on),
            "fatal_without_death": fatal_events_without_death(overview.adverse_events, overview.deceased_on),
            "may_raise_query": may_write(request.user, Area.QUERY_MANAGE),
            # The page shows each open query's message and status: none of the people or the record
            # type that the list of queries joins (select_related(None): ~1.5 ms of CPU a view).
            "queries": list(
                data_queries_visible_to(request.user)
                .filter(patient=patient)
                .exclude(status=QueryStatus.CLOSED)
                .select_related(None)
            ),
        },
    )
