"""Token authentication that django-axes can lock out.

django-axes watches username/password logins; it does not see DRF's TokenAuthentication
(axes docs, "Integration": token authentication is not supported). Guessing tokens is still a
brute-force attack, so failed token attempts are reported to axes as failed logins of the
pseudo-user "api-token" from the client's address: after AXES_FAILURE_LIMIT failures that
address is locked out of token authentication for AXES_COOLOFF_TIME, like a web login.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from django.contrib.auth.signals import user_login_failed
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from registry.services.accounts import api_token_authenticate

TOKEN_PSEUDO_USER = "api-token"  # noqa: S105 - a label for lockout records, not a secret


class LockedOut(exceptions.APIException):
    status_code = 429  # as django-axes answers a locked-out login
    default_detail = "Too many failed authentication attempts from this address; try again later."
    default_code = "locked_out"


class LockoutTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against the registry's ApiToken (hashed, scoped, expiring,
    revocable; registry.services.accounts), with django-axes lockout of guessing."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = api_token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        django_request = request._request
        credentials = {"username": TOKEN_PSEUDO_USER}
        has_token = bool(request.META.get("HTTP_AUTHORIZATION", "").lower().startswith(self.keyword.lower() + " "))
        if has_token and AxesProxyHandler.is_locked(django_request, credentials):
            raise LockedOut()
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            if not getattr(django_request, "axes_ip_address", None):
                # what django-axes' own middleware sets on the request (the stubs do not know it)
                django_request.axes_ip_address = get_client_ip_address(django_request)  # type: ignore[attr-defined]
            user_login_failed.send(sender=LockoutTokenAuthentication, credentials=credentials, request=django_request)
            raise


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's handler, but keep the transaction when authentication failed.

    With ATOMIC_REQUESTS, DRF rolls back the request on every API exception, which would also
    roll back axes' record of the failed token. Authentication runs before the view writes
    anything, so committing on an authentication failure commits only that record.
    """
    from django.db import transaction
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.AuthenticationFailed):
        for connection_alias in ("default",):
            if transaction.get_connection(connection_alias).in_atomic_block:
                transaction.set_rollback(False, using=connection_alias)
    return response
