"""Finding a patient by name, NHS number or date of birth (roles that see identities, own sites)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from registry.form_support import DATE, add_service_errors
from registry.http import AuthenticatedHttpRequest
from registry.identity_search import Found, identity_search
from registry.selectors import can_see_identity


class IdentitySearchForm(forms.Form):
    nhs_number = forms.CharField(label="NHS number", required=False, max_length=20)
    family_name = forms.CharField(label="Family name", required=False, max_length=100)
    given_name = forms.CharField(label="Given name", required=False, max_length=100)
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DATE)


@login_required
@require_GET
def patient_find(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_see_identity(request.user):
        raise PermissionDenied("Your role does not see patients' identities; search by study id instead.")
    form = IdentitySearchForm(request.GET or None)
    found: list[Found] | None = None
    if form.is_bound and form.is_valid():
        try:
            found = identity_search(request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
    return render(request, "clinic/patient_find.html", {"form": form, "found": found})
