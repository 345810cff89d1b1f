"""Consent withdrawal by level: the form that records one (or corrects one entered in error)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinic.views.common import patient_url, require_clinical_writer, visible_patient
from registry import services
from registry.form_support import add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.models import ConsentWithdrawal, WithdrawalLevel

DATE = forms.DateInput(attrs={"type": "date"})
#: On a correction only: the corrected entry should not have been recorded at all.
NO_WITHDRAWAL = ("", "No withdrawal: the entry was made in error")


class ConsentWithdrawalForm(forms.Form):
    level = forms.ChoiceField(
        label="What the patient withdrew from", choices=WithdrawalLevel.choices, widget=forms.RadioSelect
    )
    effective_on = forms.DateField(label="Date of withdrawal", widget=DATE, required=False)
    reason = forms.CharField(
        label="Reason for withdrawal",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="As the patient gave it; kept with the withdrawal and in the audit trail.",
    )

    def __init__(self, *args: Any, correcting: ConsentWithdrawal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_on"].initial = timezone.localdate()
        if correcting is not None:
            level = self.fields["level"]
            assert isinstance(level, forms.ChoiceField)
            level.choices = [NO_WITHDRAWAL, *WithdrawalLevel.choices]
            level.required = False
            level.label = "What the patient actually withdrew from"
            self.fields["effective_on"].initial = correcting.effective_on
            self.fields["reason"].label = "What was wrong with the entry"
            self.fields["reason"].help_text = "Kept with the correction and in the audit trail."


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """Record a withdrawal; with `?corrects=<id>`, the correction of a withdrawal entered in error."""
    patient = visible_patient(request, study_id)
    require_clinical_writer(request.user)
    corrects_id = request.GET.get("corrects", "")
    correcting = (
        get_object_or_404(ConsentWithdrawal, patient=patient, pk=int(corrects_id)) if corrects_id.isdigit() else None
    )
    form = ConsentWithdrawalForm(request.POST or None, correcting=correcting)
    title = "Correct a consent withdrawal" if correcting else "Record consent withdrawal"
    context = {
        "patient": patient,
        "form": form,
        "title": title,
        "correcting": correcting,
        "history": ConsentWithdrawal.objects.filter(patient=patient).select_related(
            "recorded_by", "correction", "corrects"
        ),
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_withdraw(actor=request.user, patient=patient, corrects=correcting, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Correction recorded." if correcting else "Consent withdrawal recorded.")
            return redirect(patient_url(patient))
    return render(request, "clinic/consent_withdraw.html", context)
