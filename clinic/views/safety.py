"""Safety reporting pages: the dashboard of open and overdue cases, a case with its clock and
reports, its ICSR, and the in-app notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import safety_forms
from clinic.views.common import require_clinical_writer, stale_response
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.icsr import icsr_document
from registry.models import CaseStatus, Role, SafetyCase, User
from registry.selectors import notifications_of, open_safety_cases, safety_cases_visible_to
from registry.services import StaleRecordError
from registry.services.pharmacovigilance import (
    notification_read,
    safety_case_assess,
    safety_case_close,
    safety_report_record,
)


def require_safety_officer(user: User) -> None:
    """The dashboard and line listings are the data managers' (the registry's safety role)."""
    if not (user.is_superuser or user.role == Role.DATA_MANAGER):
        raise PermissionDenied("The safety dashboard is for data managers.")


@login_required
@require_GET
def safety_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_safety_officer(request.user)
    now = timezone.now()
    cases = open_safety_cases(request.user)
    return render(
        request,
        "clinic/safety_dashboard.html",
        {
            "cases": cases,
            "now": now,
            "overdue_count": sum(1 for c in cases if c.is_overdue(now)),
            "awaiting_count": sum(1 for c in cases if c.status == CaseStatus.OPEN),
            "listing_form": safety_forms.LineListingForm(
                initial={"start": timezone.localdate().replace(day=1), "end": timezone.localdate()}
            ),
        },
    )


def _case(request: AuthenticatedHttpRequest, pk: int) -> SafetyCase:
    """A case of a patient the user may see (else 404), for the roles that write clinical data."""
    case = get_object_or_404(safety_cases_visible_to(request.user), pk=pk)
    require_clinical_writer(request.user)
    return case


def _case_context(request: AuthenticatedHttpRequest, case: SafetyCase, **forms: Any) -> dict[str, Any]:
    return {
        "case": case,
        "event": case.adverse_event,
        "patient": case.adverse_event.patient,
        "reports": list(case.reports.order_by("sequence")),
        "now": timezone.now(),
        "form": forms.get("form") or safety_forms.SafetyCaseForm(instance=case, initial={"version": case.version}),
        "report_form": forms.get("report_form") or safety_forms.SafetyReportForm(case=case),
        "close_form": forms.get("close_form") or safety_forms.SafetyCaseCloseForm(initial={"version": case.version}),
    }


@login_required
@require_http_methods(["GET", "POST"])
def safety_case(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The case with its clock; a POST saves the assessment (awareness, causality, expectedness, narrative)."""
    case = _case(request, pk)
    if request.method == "GET":
        return render(request, "clinic/safety_case.html", _case_context(request, case))
    form = safety_forms.SafetyCaseForm(request.POST, instance=case)
    context = _case_context(request, case, form=form)
    if form.is_valid():
        try:
            safety_case_assess(
                actor=request.user,
                record=_case(request, pk),
                reason=form.cleaned_data["change_reason"],
                expected_version=form.cleaned_data["version"],
                **form.changes(),
            )
        except StaleRecordError as error:
            return stale_response(request, "clinic/safety_case.html", context, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Case assessment saved.")
            return redirect("clinic:safety_case", pk=pk)
    return render(request, "clinic/safety_case.html", context)


def _case_action(
    request: AuthenticatedHttpRequest,
    case: SafetyCase,
    form: forms.Form,
    form_name: str,
    act: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Run one service on a valid form: its message and back to the case, or the case page with
    the form's errors (the service's refusals among them)."""
    if form.is_valid():
        try:
            done = act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("clinic:safety_case", pk=case.pk)
    return render(request, "clinic/safety_case.html", _case_context(request, case, **{form_name: form}))


@login_required
@require_POST
def safety_report_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)

    def record(data: dict[str, Any]) -> str:
        report = safety_report_record(actor=request.user, case=case, **data)
        return f"{report.kind} report recorded as sent ({report.reference})."

    return _case_action(request, case, safety_forms.SafetyReportForm(request.POST, case=case), "report_form", record)


@login_required
@require_POST
def safety_case_close_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)

    def close(data: dict[str, Any]) -> str:
        safety_case_close(actor=request.user, case=case, reason=data["change_reason"], expected_version=data["version"])
        return f"Case {case.case_number} closed."

    return _case_action(request, case, safety_forms.SafetyCaseCloseForm(request.POST), "close_form", close)


@login_required
@require_GET
def safety_case_icsr(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The case as an ICH E2B(R3) ICSR (structured JSON by data element; docs/safety.md)."""
    case = _case(request, pk)
    response = JsonResponse(icsr_document(case), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{case.case_number}.icsr.json"'
    return response


@login_required
@require_GET
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    notes = list(notifications_of(request.user)[:100])
    return render(request, "clinic/notifications.html", {"notifications": notes})


@login_required
@require_POST
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark a notification read and go where it points."""
    note = get_object_or_404(notifications_of(request.user), pk=pk)
    notification_read(actor=request.user, notification=note)
    return redirect(note.link or "clinic:notifications")
