"""Structured logs: one JSON object a line, each carrying the id of the request that caused it.

`RequestIdMiddleware` (first in MIDDLEWARE) takes the id a reverse proxy sent in X-Request-ID
when it is a plain token, or makes one, keeps it in a context variable for the request, and
returns it in the response's X-Request-ID header, so a user's report of an error can be matched
to its log lines. It also writes one log line per request (method, path without the query
string, status, duration, user id), which replaces gunicorn's plain-text access log.
`RequestIdFilter` puts the id on every log record ("-" outside a request: worker, beat,
commands). The JSON formatter is python-json-logger's.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
NO_REQUEST = "-"
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,128}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NO_REQUEST)
log = logging.getLogger("registry.request")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        token = request_id.set(offered if _ACCEPTED.fullmatch(offered) else uuid.uuid4().hex)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id.get()
            # The user only if something already loaded it: loading it here would query the
            # session, which fails when the database is down (the health check must still answer).
            user = getattr(request, "_cached_user", None)
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id.reset(token)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """LOGGING for settings: "json" (production) or "plain" (the demo, a developer's terminal)."""
    formatters = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    }
    if log_format not in formatters:
        raise ValueError(f"DJANGO_LOG_FORMAT must be one of {', '.join(formatters)}, not {log_format!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.log.RequestIdFilter"}},
        "formatters": {log_format: formatters[log_format]},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
    }
