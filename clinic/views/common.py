"""Helpers every clinic page shares: the patient a user may see, the writer check, the stale-edit answer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from registry.http import AuthenticatedHttpRequest
from registry.models import (
    Patient,
    Signature,
    User,
)
from registry.roles import Area, may_write
from registry.selectors import (
    patients_visible_to,
    signatures_of,
)
from registry.services import StaleRecordError
from registry.signing import signature_verifies

STALE_STATUS = 409


# --- helpers -----------------------------------------------------------------------------


def visible_patient(request: AuthenticatedHttpRequest, study_id: str) -> Patient:
    """A patient the user may see, else 404: other sites' patients do not exist for them."""
    return get_object_or_404(patients_visible_to(request.user).select_related("site"), study_id=study_id)


def require_clinical_writer(user: User) -> None:
    if not may_write(user, Area.CLINICAL):
        raise PermissionDenied("Your role may not change clinical data.")


def verified_signatures(patient: Patient) -> list[Signature]:
    """The patient's signatures, each marked `verifies` when valid and its signed content is unchanged."""
    signatures = signatures_of(patient)
    for signature in signatures:
        signature.verifies = signature.is_valid and signature_verifies(signature)  # type: ignore[attr-defined]
    return signatures


def patient_url(patient: Patient) -> str:
    return reverse("clinic:patient_detail", args=[patient.study_id])


def stale_response(
    request: AuthenticatedHttpRequest, template: str, context: dict[str, Any], error: StaleRecordError
) -> HttpResponse:
    context["form"].add_error(None, error.messages[0])
    context["stale"] = True
    return render(request, template, context, status=STALE_STATUS)
