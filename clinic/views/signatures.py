"""Signing a casebook or a visit (re-authentication), and unlocking a signed record."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from clinic.views.common import patient_url, visible_patient
from registry import services
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.models import AlsfrsrAssessment, Patient, Signature, SignatureMeaning
from registry.roles import Area, may_write

#: Set in the session after a signing: later signings in the same session ask for the password
#: only (21 CFR 11.200(a)(1)(i)); a new session (sign-in, idle timeout) asks for both again.
SIGNED_IN_SESSION = "signature_components_given"


class SignForm(forms.Form):
    meaning = forms.ChoiceField(
        label="What your signature means", choices=SignatureMeaning.choices, widget=forms.RadioSelect
    )
    user_id = forms.CharField(label="User ID", max_length=150)
    password = forms.CharField(label="Password", widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args: object, ask_user_id: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not ask_user_id:
            del self.fields["user_id"]


class UnlockForm(forms.Form):
    reason = forms.CharField(
        label="Reason for unlocking",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the signature, which no longer holds once unlocked.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def sign(request: AuthenticatedHttpRequest, study_id: str, pk: int | None = None) -> HttpResponse:
    """Sign the casebook (no `pk`) or one ALSFRS-R visit."""
    patient = visible_patient(request, study_id)
    if not may_write(request.user, Area.SIGN):
        raise PermissionDenied("Only the investigators of the patient's site sign.")
    record: Patient | AlsfrsrAssessment = patient
    if pk is not None:
        record = get_object_or_404(AlsfrsrAssessment, patient=patient, pk=pk)
    ask_user_id = not request.session.get(SIGNED_IN_SESSION)
    form = SignForm(request.POST or None, ask_user_id=ask_user_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.signature_sign(
                actor=request.user,
                record=record,
                meaning=form.cleaned_data["meaning"],
                password=form.cleaned_data["password"],
                user_id=form.cleaned_data["user_id"] if ask_user_id else None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session[SIGNED_IN_SESSION] = True
            messages.success(request, f"{'Casebook' if pk is None else 'Visit'} signed and locked.")
            return redirect(patient_url(patient))
    what = "casebook" if pk is None else f"ALSFRS-R visit of {record.assessment_date:%d %b %Y}"  # type: ignore[union-attr]
    return render(request, "clinic/sign.html", {"form": form, "patient": patient, "what": what})


@login_required
@require_http_methods(["GET", "POST"])
def unlock(request: AuthenticatedHttpRequest, study_id: str, pk: int) -> HttpResponse:
    patient = visible_patient(request, study_id)
    if not may_write(request.user, Area.UNLOCK):
        raise PermissionDenied("Only data managers unlock signed records.")
    signature = get_object_or_404(Signature, patient=patient, pk=pk)
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.signature_invalidate(actor=request.user, signature=signature, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Unlocked: the signature no longer holds.")
            return redirect(patient_url(patient))
    return render(request, "clinic/unlock.html", {"form": form, "patient": patient, "signature": signature})
