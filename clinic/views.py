"""Web views for clinicians and data managers: thin, reads through selectors, writes through services.

Every patient is looked up through `patients_visible_to`, so a patient of another site is a
404 (its existence is not revealed), and only then is the role checked (403 for a role that
may not write). A service's ValidationError is shown next to the field it names; a stale edit
(StaleRecordError) is answered 409 with the form as typed, and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access_programme import selectors as programme
from access_programme import services as programme_services
from clinic import forms
from clinic.charts import alsfrsr_chart
from registry import services
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    Diagnosis,
    Patient,
    Role,
    SeriousAdverseEventAlert,
    User,
)
from registry.roles import Area, may_write
from registry.selectors import (
    has_gastrostomy,
    patients_visible_to,
    record_history,
    records_visible_to,
    sae_alerts_visible_to,
    sites_visible_to,
)
from registry.services import RECORD_SERVICES, StaleRecordError, UpdateService

STALE_STATUS = 409


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for docker-compose and load balancers: the database answers."""
    connection.ensure_connection()
    return JsonResponse({"status": "ok", "celery_eager": settings.CELERY_TASK_ALWAYS_EAGER})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its daily work."""
    if request.user.role == Role.PHARMACIST:
        return redirect("pharmacy:worklist")
    return redirect("clinic:patient_list")


# --- helpers -----------------------------------------------------------------------------


def _patient(request: HttpRequest, study_id: str) -> Patient:
    """A patient the user may see, else 404: other sites' patients do not exist for them."""
    return get_object_or_404(patients_visible_to(request.user).select_related("site"), study_id=study_id)


def _require_clinical_writer(user: User) -> None:
    if not may_write(user, Area.CLINICAL):
        raise PermissionDenied("Your role may not change clinical data.")


def _patient_url(patient: Patient) -> str:
    return reverse("clinic:patient_detail", args=[patient.study_id])


def _stale(request: HttpRequest, template: str, context: dict[str, Any], error: StaleRecordError) -> HttpResponse:
    context["form"].add_error(None, error.messages[0])
    context["stale"] = True
    return render(request, template, context, status=STALE_STATUS)


# --- patient list ------------------------------------------------------------------------


@login_required
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    sites = list(sites_visible_to(request.user).order_by("code"))
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
def enrol(request: HttpRequest) -> HttpResponse:
    _require_clinical_writer(request.user)
    sites = sites_visible_to(request.user).order_by("code")
    form = forms.EnrolmentForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = programme_services.patient_enrol(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, f"{enrolment.patient.study_id} enrolled ({enrolment.route.name}).")
            return redirect(_patient_url(enrolment.patient))
    unmet = form.unmet_criteria()
    return render(request, "clinic/enrol.html", {"form": form, "unmet": unmet, "checked": form.is_bound})


@login_required
@require_POST
def enrol_eligibility(request: HttpRequest) -> HttpResponse:
    """The MIROCALS check as the clinician types (htmx partial); nothing is saved."""
    _require_clinical_writer(request.user)
    form = forms.EnrolmentForm(request.POST, sites=sites_visible_to(request.user))
    return render(request, "clinic/_eligibility.html", {"unmet": form.unmet_criteria(), "checked": True})


# --- patient page ------------------------------------------------------------------------


@login_required
@require_GET
def patient_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = get_object_or_404(programme.patient_page_queryset(request.user), study_id=study_id)
    overview = programme.patient_overview(patient, request.user, timezone.localdate())
    return render(
        request,
        "clinic/patient_detail.html",
        {
            "o": overview,
            "patient": patient,
            "chart": alsfrsr_chart(overview.assessments),
            "may_write": may_write(request.user, Area.CLINICAL),
            "may_dispense": may_write(request.user, Area.PHARMACY),
        },
    )


# --- new records -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def alsfrsr_create(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = _patient(request, study_id)
    _require_clinical_writer(request.user)
    gastrostomy = has_gastrostomy(patient)
    form = forms.AlsfrsrForm(request.POST or None, instance=AlsfrsrAssessment(patient=patient), gastrostomy=gastrostomy)
    if request.method == "POST" and form.is_valid():
        try:
            services.alsfrsr_record(
                actor=request.user,
                patient=patient,
                assessment_date=form.cleaned_data["assessment_date"],
                **form.item_values(),
            )
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, "ALSFRS-R assessment saved.")
            return redirect(_patient_url(patient))
    return render(request, "clinic/alsfrsr_form.html", _alsfrsr_context(patient, form, "Record ALSFRS-R"))


def _alsfrsr_context(patient: Patient, form: forms.AlsfrsrForm, title: str, **extra: Any) -> dict[str, Any]:
    data = form.data if form.is_bound else {name: form[name].value() for name in form.fields}
    return {"patient": patient, "form": form, "title": title, "score": forms.live_score(data), **extra}


@login_required
@require_POST
def alsfrsr_score(request: HttpRequest, study_id: str) -> HttpResponse:
    """Total and subscores as the items are scored (htmx partial); nothing is saved."""
    _patient(request, study_id)
    return render(request, "clinic/_alsfrsr_score.html", {"score": forms.live_score(request.POST)})


@login_required
@require_http_methods(["GET", "POST"])
def biomarker_create(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = _patient(request, study_id)
    _require_clinical_writer(request.user)
    form = forms.BiomarkerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.biomarker_record(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, "Biomarker result saved.")
            return redirect(_patient_url(patient))
    return render(
        request, "clinic/record_form.html", {"patient": patient, "form": form, "title": "Record a biomarker result"}
    )


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_create(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = _patient(request, study_id)
    _require_clinical_writer(request.user)
    form = forms.AdverseEventForm(request.POST or None, instance=AdverseEvent(patient=patient))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in forms.AdverseEventForm.Meta.fields}
        try:
            event = services.adverse_event_record(actor=request.user, patient=patient, **fields)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            if event.serious:
                messages.warning(request, "Serious adverse event saved and flagged to the data managers.")
            else:
                messages.success(request, "Adverse event saved.")
            return redirect(_patient_url(patient))
    return render(
        request,
        "clinic/adverse_event_form.html",
        {"patient": patient, "form": form, "title": "Record an adverse event"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest, study_id: str) -> HttpResponse:
    patient = _patient(request, study_id)
    _require_clinical_writer(request.user)
    form = forms.ClinicalEventForm(request.POST or None, instance=ClinicalEvent(patient=patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.outcome_record(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, f"{form.instance.get_event_type_display()} recorded.")
            return redirect(_patient_url(patient))
    return render(
        request, "clinic/record_form.html", {"patient": patient, "form": form, "title": "Record a clinical event"}
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, study_id: str, pk: int) -> HttpResponse:
    patient = _patient(request, study_id)
    consent = get_object_or_404(records_visible_to(request.user, Consent), patient=patient, pk=pk)
    _require_clinical_writer(request.user)
    form = forms.ConsentWithdrawalForm(request.POST or None, initial={"version": consent.version})
    context = {"patient": patient, "form": form, "consent": consent, "title": "Record consent withdrawal"}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_withdraw(
                actor=request.user,
                consent=consent,
                withdrawn_on=data["withdrawn_on"],
                scope=data["scope"],
                reason=data["reason"],
                expected_version=data["version"],
            )
        except StaleRecordError as error:
            return _stale(request, "clinic/consent_withdraw.html", context, error)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, "Consent withdrawal recorded.")
            return redirect(_patient_url(patient))
    return render(request, "clinic/consent_withdraw.html", context)


# --- edits and history -------------------------------------------------------------------


@dataclass(frozen=True)
class RecordKind:
    model: type[models.Model]
    label: str
    edit_form: type[Any] | None

    @property
    def update(self) -> UpdateService:
        return RECORD_SERVICES[self.model].update


RECORD_KINDS: dict[str, RecordKind] = {
    "alsfrsr": RecordKind(
        AlsfrsrAssessment,
        "ALSFRS-R assessment",
        forms.AlsfrsrEditForm,
    ),
    "biomarker": RecordKind(
        BiomarkerResult,
        "biomarker result",
        forms.BiomarkerEditForm,
    ),
    "adverse-event": RecordKind(
        AdverseEvent,
        "adverse event",
        forms.AdverseEventEditForm,
    ),
    "event": RecordKind(
        ClinicalEvent,
        "clinical event",
        forms.ClinicalEventEditForm,
    ),
    "diagnosis": RecordKind(
        Diagnosis,
        "diagnosis",
        forms.DiagnosisEditForm,
    ),
    "consent": RecordKind(Consent, "consent", None),
}


def _record(request: HttpRequest, study_id: str, kind: str, pk: int) -> tuple[Patient, RecordKind, Any]:
    patient = _patient(request, study_id)
    if kind not in RECORD_KINDS:
        raise Http404("No such kind of record.")
    record_kind = RECORD_KINDS[kind]
    record = get_object_or_404(records_visible_to(request.user, record_kind.model), patient=patient, pk=pk)
    return patient, record_kind, record


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, study_id: str, kind: str, pk: int) -> HttpResponse:
    """Correct a record: the form carries the version loaded and asks for the reason."""
    patient, record_kind, record = _record(request, study_id, kind, pk)
    _require_clinical_writer(request.user)
    if record_kind.edit_form is None:
        raise PermissionDenied("This record is not edited here.")
    title = f"Edit {record_kind.label}"
    if kind == "biomarker":
        form = forms.BiomarkerEditForm(request.POST or None, initial=_biomarker_initial(record))
    elif kind == "alsfrsr":
        form = forms.AlsfrsrEditForm(request.POST or None, instance=record, initial={"version": record.version})
    else:
        form = record_kind.edit_form(request.POST or None, instance=record, initial={"version": record.version})
    template = "clinic/alsfrsr_form.html" if kind == "alsfrsr" else "clinic/record_form.html"
    if kind == "adverse-event":
        template = "clinic/adverse_event_form.html"
    context = (
        _alsfrsr_context(patient, form, title, record=record, editing=True)
        if kind == "alsfrsr"
        else {"patient": patient, "form": form, "title": title, "record": record, "editing": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            _save_edit(request.user, record_kind, record, form)
        except StaleRecordError as error:
            return _stale(request, template, context, error)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, f"{record_kind.label.capitalize()} updated.")
            return redirect(_patient_url(patient))
    return render(request, template, context)


def _biomarker_initial(record: BiomarkerResult) -> dict[str, Any]:
    return {
        "sample_date": record.sample_date,
        "analyte": record.analyte,
        "reported_value": record.reported_value if record.reported_value is not None else record.value,
        "reported_unit": record.reported_unit or record.unit,
        "assay": record.assay,
        "laboratory": record.laboratory,
        "version": record.version,
    }


def _save_edit(user: User, record_kind: RecordKind, record: Any, form: Any) -> None:
    """Save a correction through the record's service; a model form has put the changes on the instance."""
    data = form.cleaned_data
    changes: dict[str, Any] = {}
    if record_kind.model is BiomarkerResult:  # a plain form: its values are the changes
        changes = {
            k: data[k] for k in ("sample_date", "analyte", "reported_value", "reported_unit", "assay", "laboratory")
        }
    record_kind.update(
        record=form.instance if hasattr(form, "instance") else record,
        actor=user,
        reason=data["change_reason"],
        expected_version=data["version"],
        **changes,
    )


@login_required
@require_GET
def record_history_view(request: HttpRequest, study_id: str, kind: str, pk: int) -> HttpResponse:
    patient, record_kind, record = _record(request, study_id, kind, pk)
    return render(
        request,
        "clinic/record_history.html",
        {"patient": patient, "record": record, "label": record_kind.label, "entries": record_history(record)},
    )


# --- serious adverse event alerts (data managers) ----------------------------------------


def _require_data_manager(user: User) -> None:
    if not (user.is_superuser or user.role == Role.DATA_MANAGER):
        raise PermissionDenied("Serious adverse event alerts are for data managers.")


@login_required
@require_GET
def sae_alerts(request: HttpRequest) -> HttpResponse:
    _require_data_manager(request.user)
    alerts = list(sae_alerts_visible_to(request.user)[:200])
    return render(
        request,
        "clinic/sae_alerts.html",
        {"alerts": alerts, "open_count": sum(1 for a in alerts if a.is_open)},
    )


@login_required
@require_POST
def sae_alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    _require_data_manager(request.user)
    alert = get_object_or_404(
        SeriousAdverseEventAlert.objects.filter(pk__in=sae_alerts_visible_to(request.user).values("pk")), pk=pk
    )
    services.sae_alert_acknowledge(actor=request.user, alert=alert)
    messages.success(request, f"Alert for {alert.adverse_event.patient.study_id} acknowledged.")
    return redirect("clinic:sae_alerts")
