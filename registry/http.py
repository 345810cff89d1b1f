"""Typed requests for the web and API adapters.

django-stubs types `request.user` as `User | AnonymousUser`. A view behind `login_required`
(or DRF's IsAuthenticated) only ever sees a signed-in registry User, so it annotates its request
as `AuthenticatedHttpRequest` (the pattern django-stubs documents); code that must narrow at run
time calls `signed_in_user`.
"""

from __future__ import annotations

from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from registry.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request a view behind `login_required` receives (for type checking only)."""

    user: User
    htmx: HtmxDetails  # set by django_htmx.middleware.HtmxMiddleware on every request


class HasUser(Protocol):
    @property
    def user(self) -> AbstractBaseUser | AnonymousUser: ...


def signed_in_user(request: HasUser) -> User:
    """The request's registry User; an anonymous request is refused (PermissionDenied)."""
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        return user
    raise PermissionDenied("Sign in first.")
