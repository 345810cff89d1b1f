"""Pharmacy pages around a supply: the prescription and its clinical check, the supply with its
accuracy check by a second person, and the named-patient dispensing label (PDF)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from access_programme import selectors, services
from access_programme.models import RouteCode
from pharmacy.access import dispensing_target_or_404, require_pharmacy
from pharmacy.forms import PrescriptionForm
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.pdf import html_pdf
from registry.services import StaleRecordError


@login_required
@require_http_methods(["GET", "POST"])
def prescribe(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """Record the prescriber's order for the next cycle, then a pharmacist's clinical check."""
    today = timezone.localdate()
    target = dispensing_target_or_404(request.user, study_id, today)
    patient = target.patient
    part = selectors.part_supplied_cycle(patient)
    cycle_number = part[0].cycle_number if part else target.cycle_number
    if cycle_number == 0:
        messages.info(request, f"{patient.study_id} is not in follow-up: nothing to prescribe.")
        return redirect("clinic:patient_detail", study_id=patient.study_id)
    prescription = selectors.cycle_prescription(patient, cycle_number)
    special = target.route.code == RouteCode.NHS_SPECIALS
    form = PrescriptionForm(
        request.POST or None if prescription is None else None,
        special=special,
        prescriber=patient.enrolment.treating_clinician,
    )
    error, status = "", 200
    if request.method == "POST":
        try:
            if prescription is None:
                if form.is_valid():
                    services.prescription_record(
                        actor=request.user, patient=patient, cycle_number=cycle_number, **form.cleaned_data
                    )
                    messages.success(request, f"Prescription for cycle {cycle_number} recorded.")
                    return redirect("pharmacy:prescribe", study_id=patient.study_id)
            elif request.POST.get("action") == "check":
                services.prescription_clinical_check(
                    actor=request.user, prescription=prescription, expected_version=prescription.version
                )
                messages.success(request, f"Prescription for cycle {cycle_number} clinically checked.")
                return redirect("pharmacy:dispense", study_id=patient.study_id)
        except PermissionDenied as refused:
            error, status = str(refused), 403
        except StaleRecordError as refused:
            error, status = " ".join(refused.messages), 409
        except ValidationError as refused:
            if prescription is None:
                add_service_errors(form, refused)
            else:
                error = " ".join(refused.messages)
    return render(
        request,
        "pharmacy/prescribe.html",
        {
            "target": target,
            "cycle_number": cycle_number,
            "patient": patient,
            "prescription": prescription,
            "form": form,
            "error": error,
            "special": special,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispensing_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A supply, its accuracy check by a second person, and its label."""
    require_pharmacy(request.user)
    dispensing = selectors.visible_dispensing(request.user, pk)
    if dispensing is None:
        raise Http404("No such supply at your sites.")
    error = ""
    if request.method == "POST":
        try:
            services.dispensing_accuracy_check(
                actor=request.user, dispensing=dispensing, expected_version=dispensing.version
            )
        except (StaleRecordError, ValidationError) as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(request, "Accuracy check recorded.")
            return redirect("pharmacy:dispensing_detail", pk=pk)
    return render(
        request,
        "pharmacy/dispensing_detail.html",
        {"d": dispensing, "error": error, "last_day": dispensing.last_administration_day()},
        status=400 if error else 200,
    )


@login_required
@require_GET
def dispensing_label(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The named-patient label as a PDF (WeasyPrint), to print and attach to the supply."""
    require_pharmacy(request.user)
    dispensing = selectors.visible_dispensing(request.user, pk)
    if dispensing is None:
        raise Http404("No such supply at your sites.")
    label = selectors.dispensing_label(request.user, dispensing, path=request.path)
    html = render_to_string("pharmacy/label.html", {"label": label, "d": dispensing, "today": timezone.localdate()})
    response = HttpResponse(html_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{dispensing.patient.study_id}-{dispensing.pk}.pdf"'
    return response
