"""The subject-access export of one patient, as a JSON download (registry.subject_access)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse

from registry.http import AuthenticatedHttpRequest
from registry.selectors import patients_visible_to
from registry.subject_access import subject_access_export


@login_required
def subject_access(request: AuthenticatedHttpRequest, study_id: str) -> JsonResponse:
    patient = patients_visible_to(request.user).filter(study_id=study_id).first()
    if patient is None:
        raise Http404("No such patient.")
    held = subject_access_export(actor=request.user, patient=patient, path=request.path)
    response = JsonResponse(held, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = f'attachment; filename="subject-access-{study_id}.json"'
    return response
