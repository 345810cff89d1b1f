"""Template context every page needs: which navigation entries the user's role may use."""

from __future__ import annotations

from django.http import HttpRequest

from registry.models import Role
from registry.roles import Area, may_write
from registry.selectors import unread_notifications


def navigation(request: HttpRequest) -> dict[str, bool | int]:
    """Links are shown by the same rule that guards their pages, so nobody is offered a 403."""
    user = request.user
    # Notifications go to the safety role (new serious adverse events): other roles' pages
    # spend no query on a count that is always zero.
    notified = user.is_authenticated and (user.is_superuser or user.role == Role.DATA_MANAGER)
    unread = unread_notifications(user).count() if notified else 0  # type: ignore[arg-type]
    return {"may_import": may_write(user, Area.IMPORT), "unread_notifications": unread}  # type: ignore[arg-type]
