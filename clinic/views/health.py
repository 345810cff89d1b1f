"""Liveness for docker-compose and load balancers."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for docker-compose and load balancers: the database answers."""
    connection.ensure_connection()
    return JsonResponse({"status": "ok", "celery_eager": settings.CELERY_TASK_ALWAYS_EAGER})
