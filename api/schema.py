"""The OpenAPI schema documents the errors the API answers, not only its successes.

drf-spectacular documents the 200/201 of each operation; a client (and schemathesis's
status-code and response-schema checks) also needs to know which errors it may get. Each
operation gets the error responses its view can give, with the body DRF sends:

* 401 on every operation, with the `WWW-Authenticate: Token` challenge;
* 403 on writes (the role may not write this data), and on every method of a view that
  refuses a role outright (identities, to analysts);
* 404 on an object that is not in your queryset, and on a list given an invalid cursor;
* 400 on writes (validation) and on lists with filters (an invalid filter value);
* 409 on updates with a stale `version`;
* 429 when a rate limit or the token lockout applies.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import SAFE_METHODS

from api.permissions import SeesIdentity
from api.serializers import ErrorSerializer

WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "schema": {"type": "string", "pattern": "^Token"},
        "required": True,
        "description": "The authentication scheme to use: `Token`.",
    }
}

_DETAIL = OpenApiResponse(ErrorSerializer)
_VALIDATION = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Validation errors: a list of messages per field (`non_field_errors` for cross-field rules).",
)


class RegistryAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the error responses of the registry's API views."""

    def _error_responses(self) -> dict[str, tuple[OpenApiResponse, str]]:
        method = self.method.upper()
        safe = method in SAFE_METHODS
        detail_route = "{" in self.path
        errors = {"401": (_DETAIL, "Not authenticated: send `Authorization: Token <key>`.")}
        if not safe or any(isinstance(p, SeesIdentity) for p in self.view.get_permissions()):
            errors["403"] = (_DETAIL, "Your role may not do this.")
        if detail_route or (safe and self._is_list_view() and self._get_paginator() is not None):
            errors["404"] = (_DETAIL, "Not found among the records you may see (or an invalid cursor).")
        filtered = getattr(self.view, "filterset_class", None) or getattr(self.view, "filterset_fields", None)
        if not safe or (self._is_list_view() and filtered):
            errors["400"] = (_VALIDATION, "The request is not valid.")
        if method in ("PUT", "PATCH"):
            errors["409"] = (_DETAIL, "The record was changed by someone else after you loaded it.")
        errors["429"] = (_DETAIL, "Too many requests, or too many failed authentication attempts.")
        return errors

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, (response, description) in self._error_responses().items():
            if code not in responses:
                documented = OpenApiResponse(response.response, description=response.description or description)
                responses[code] = self._get_response_for_code(documented, code, direction=direction)
        return dict(sorted(responses.items()))

    def _get_response_headers_for_code(self, status_code: str, direction: Any = "response") -> dict[str, Any]:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code == "401":
            headers = {**headers, **WWW_AUTHENTICATE}
        return headers
