"""API permissions: the web app's rules (registry.roles for writes, registry.selectors for reads)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from registry.models import ApiToken, TokenScope
from registry.roles import Area, may_write
from registry.selectors import can_see_identity


class RegistryAccess(BasePermission):
    """Any active user may read (rows are scoped by the selectors); writes need the view's write area.

    Views with no `write_area` are read-only for everyone. Analysts have no write area at all,
    so every write they attempt is refused with 403 before any service runs.
    """

    message = "Your role may not change this data."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if not token_allows(request):
            self.message = "This API token is read-only: create a write token for changes."
            return False
        if request.method in SAFE_METHODS:
            return True
        area: Area | None = getattr(view, "write_area", None)
        return area is not None and may_write(user, area)


class SeesIdentity(BasePermission):
    """Identity (names, birth date, NHS number) is never served to analysts, not even as a 404 probe."""

    message = "Analysts work on pseudonymised data and never see identity."

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_see_identity(request.user)


def token_allows(request: Request) -> bool:
    """A read-scoped token (registry.models.ApiToken) allows only safe methods."""
    token = request.auth
    return not (isinstance(token, ApiToken) and token.scope == TokenScope.READ and request.method not in SAFE_METHODS)
