"""Web views: thin, delegating reads to selectors and writes to services."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from registry.selectors import patients_visible_to, sites_visible_to


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for docker-compose and load balancers: the database answers."""
    connection.ensure_connection()
    return JsonResponse({"status": "ok", "celery_eager": settings.CELERY_TASK_ALWAYS_EAGER})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    patients = patients_visible_to(request.user).select_related("site")
    return render(
        request,
        "registry/home.html",
        {"patient_count": patients.count(), "sites": sites_visible_to(request.user)},
    )
