"""Template context every page needs: which navigation entries the user's role may use."""

from __future__ import annotations

from django.http import HttpRequest

from registry.roles import Area, may_write


def navigation(request: HttpRequest) -> dict[str, bool]:
    """Links are shown by the same rule that guards their pages, so nobody is offered a 403."""
    return {"may_import": may_write(request.user, Area.IMPORT)}  # type: ignore[arg-type]
