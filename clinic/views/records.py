"""New clinical records, corrections and their history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms import BaseForm
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import forms
from clinic.views.common import patient_url, require_clinical_writer, stale_response, visible_patient
from registry import services
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    Diagnosis,
    EventType,
    Patient,
    User,
    YesNoUnknown,
)
from registry.selectors import (
    fatal_events_without_death,
    has_gastrostomy,
    record_history,
    records_visible_to,
)
from registry.services import RECORD_SERVICES, StaleRecordError, UpdateService

# --- new records -------------------------------------------------------------------------
R = TypeVar("R", bound=models.Model)


def _posted_and_saved(request: AuthenticatedHttpRequest, form: BaseForm, save: Callable[[], R]) -> R | None:
    """A new record's page: on a valid POST, the record the service saved; else None, the form
    shown again with the service's refusal next to the field it names."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save()
    except ValidationError as error:
        add_service_errors(form, error)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def alsfrsr_create(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    patient = visible_patient(request, study_id)
    require_clinical_writer(request.user)
    gastrostomy = has_gastrostomy(patient)
    form = forms.AlsfrsrForm(request.POST or None, instance=AlsfrsrAssessment(patient=patient), gastrostomy=gastrostomy)
    death = patient.death_date()
    if death is not None:  # after a death, the entry left is the final assessment, dated on or before it
        form.initial["assessment_date"] = death
    saved = _posted_and_saved(
        request,
        form,
        lambda: services.alsfrsr_record(
            actor=request.user,
            patient=patient,
            assessment_date=form.cleaned_data["assessment_date"],
            **form.item_values(),
        ),
    )
    if saved is not None:
        messages.success(request, "ALSFRS-R assessment saved.")
        return redirect(patient_url(patient))
    return render(request, "clinic/alsfrsr_form.html", _alsfrsr_context(patient, form, "Record ALSFRS-R"))


def _alsfrsr_context(patient: Patient, form: forms.AlsfrsrForm, title: str, **extra: Any) -> dict[str, Any]:
    data = form.data if form.is_bound else {name: form[name].value() for name in form.fields}
    return {"patient": patient, "form": form, "title": title, "score": forms.live_score(data), **extra}


@login_required
@require_POST
def alsfrsr_score(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """Total and subscores as the items are scored (htmx partial); nothing is saved."""
    visible_patient(request, study_id)
    return render(request, "clinic/_alsfrsr_score.html", {"score": forms.live_score(request.POST)})


@login_required
@require_http_methods(["GET", "POST"])
def biomarker_create(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    patient = visible_patient(request, study_id)
    require_clinical_writer(request.user)
    form = forms.BiomarkerForm(request.POST or None)
    saved = _posted_and_saved(
        request, form, lambda: services.biomarker_record(actor=request.user, patient=patient, **form.cleaned_data)
    )
    if saved is not None:
        messages.success(request, "Biomarker result saved.")
        return redirect(patient_url(patient))
    return render(
        request, "clinic/record_form.html", {"patient": patient, "form": form, "title": "Record a biomarker result"}
    )


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_create(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    patient = visible_patient(request, study_id)
    require_clinical_writer(request.user)
    form = forms.AdverseEventForm(request.POST or None, instance=AdverseEvent(patient=patient))
    event = _posted_and_saved(
        request,
        form,
        lambda: services.adverse_event_record(
            actor=request.user,
            patient=patient,
            **form.service_arguments(),
        ),
    )
    if event is not None:
        if fatal_events_without_death([event], patient.death_date()):
            messages.warning(request, "A grade 5 (fatal) event needs the death recorded on the same date: confirm it.")
            return redirect(death_form_url(patient, event))
        if event.serious:
            messages.warning(
                request, "Serious adverse event saved: its safety case is open and the data managers are alerted."
            )
            return redirect("clinic:safety_case", pk=event.safety_case.pk)
        else:
            messages.success(request, "Adverse event saved.")
        return redirect(patient_url(patient))
    return render(
        request,
        "clinic/adverse_event_form.html",
        {"patient": patient, "form": form, "title": "Record an adverse event"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    patient = visible_patient(request, study_id)
    require_clinical_writer(request.user)
    form = forms.ClinicalEventForm(
        request.POST or None, instance=ClinicalEvent(patient=patient), initial=_death_initial(request, patient)
    )
    saved = _posted_and_saved(
        request, form, lambda: services.outcome_record(actor=request.user, patient=patient, **form.cleaned_data)
    )
    if saved is not None:
        messages.success(request, f"{form.instance.get_event_type_display()} recorded.")
        return redirect(patient_url(patient))
    return render(
        request, "clinic/record_form.html", {"patient": patient, "form": form, "title": "Record a clinical event"}
    )


def death_form_url(patient: Patient, event: AdverseEvent) -> str:
    """The death form, filled from a fatal adverse event: its end date (else onset) and the event as cause."""
    day = event.resolution_date or event.onset_date
    query = urlencode({"event_type": EventType.DEATH, "event_date": day.isoformat(), "ae": event.pk})
    return f"{reverse('clinic:event_create', args=[patient.study_id])}?{query}"


def _death_initial(request: AuthenticatedHttpRequest, patient: Patient) -> dict[str, Any]:
    """Initial values offered by a link (a fatal event's "record the death"); the form checks them on save."""
    if request.GET.get("event_type") != EventType.DEATH:
        return {}
    initial: dict[str, Any] = {"event_type": EventType.DEATH, "event_date": request.GET.get("event_date")}
    ae_id = request.GET.get("ae", "")
    ae = AdverseEvent.objects.filter(patient=patient, pk=int(ae_id)).first() if ae_id.isdigit() else None
    if ae is not None:
        initial |= {"ae_caused_death": YesNoUnknown.YES, "caused_by_adverse_event": ae.pk}
    return initial


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


def _record(request: AuthenticatedHttpRequest, study_id: str, kind: str, pk: int) -> tuple[Patient, RecordKind, Any]:
    patient = visible_patient(request, study_id)
    if kind not in RECORD_KINDS:
        raise Http404("No such kind of record.")
    record_kind = RECORD_KINDS[kind]
    record = get_object_or_404(records_visible_to(request.user, record_kind.model), patient=patient, pk=pk)
    return patient, record_kind, record


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request: AuthenticatedHttpRequest, study_id: str, kind: str, pk: int) -> HttpResponse:
    """Correct a record: the form carries the version loaded and asks for the reason."""
    patient, record_kind, record = _record(request, study_id, kind, pk)
    require_clinical_writer(request.user)
    if record_kind.edit_form is None:
        raise PermissionDenied("This record is not edited here.")
    title = f"Edit {record_kind.label}"
    form: BaseForm
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
        if isinstance(form, forms.AlsfrsrForm)  # kind == "alsfrsr"
        else {"patient": patient, "form": form, "title": title, "record": record, "editing": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            _save_edit(request.user, record_kind, record, form)
        except StaleRecordError as error:
            return stale_response(request, template, context, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{record_kind.label.capitalize()} updated.")
            return redirect(patient_url(patient))
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
    if data.get("aware_at"):  # an adverse event made serious: when the site knew starts the clock
        changes["aware_at"] = data["aware_at"]
    record_kind.update(
        record=form.instance if hasattr(form, "instance") else record,
        actor=user,
        reason=data["change_reason"],
        expected_version=data["version"],
        **changes,
    )


@login_required
@require_GET
def record_history_view(request: AuthenticatedHttpRequest, study_id: str, kind: str, pk: int) -> HttpResponse:
    patient, record_kind, record = _record(request, study_id, kind, pk)
    return render(
        request,
        "clinic/record_history.html",
        {"patient": patient, "record": record, "label": record_kind.label, "entries": record_history(record)},
    )
