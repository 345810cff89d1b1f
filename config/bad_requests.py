"""A NUL byte in a URL is a 400, before any view runs.

PostgreSQL text cannot hold NUL (0x00), so a path or query parameter carrying one reached the
database as a DataError (HTTP 500): in a study id, a filter, a search, a cursor. No valid URL of
the registry holds one, so the request is refused at the door. NUL bytes in form and JSON
bodies are refused by the fields themselves (Django's and DRF's CharField prohibit them), and in
imported files by the reader (interchange/reader.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponseBase


class RefuseNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if "\x00" in request.path or _query_has_nul(request):
            raise BadRequest("The address holds a NUL byte.")
        return self.get_response(request)


def _query_has_nul(request: HttpRequest) -> bool:
    if "%00" not in request.META.get("QUERY_STRING", "") and "\x00" not in request.META.get("QUERY_STRING", ""):
        return False
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())
