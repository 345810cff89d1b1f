"""Serious adverse event alerts for the data managers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from registry import services
from registry.http import AuthenticatedHttpRequest
from registry.models import (
    Role,
    SeriousAdverseEventAlert,
    User,
)
from registry.selectors import (
    sae_alerts_visible_to,
)

# --- serious adverse event alerts (data managers) ----------------------------------------


def _require_data_manager(user: User) -> None:
    if not (user.is_superuser or user.role == Role.DATA_MANAGER):
        raise PermissionDenied("Serious adverse event alerts are for data managers.")


@login_required
@require_GET
def sae_alerts(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_data_manager(request.user)
    alerts = list(sae_alerts_visible_to(request.user)[:200])
    return render(
        request,
        "clinic/sae_alerts.html",
        {"alerts": alerts, "open_count": sum(1 for a in alerts if a.is_open)},
    )


@login_required
@require_POST
def sae_alert_acknowledge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_data_manager(request.user)
    alert = get_object_or_404(
        SeriousAdverseEventAlert.objects.filter(pk__in=sae_alerts_visible_to(request.user).values("pk")), pk=pk
    )
    services.sae_alert_acknowledge(actor=request.user, alert=alert)
    messages.success(request, f"Alert for {alert.adverse_event.patient.study_id} acknowledged.")
    return redirect("clinic:sae_alerts")
