"""Who may use the pharmacy pages, and the patient a dispensing page is about."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import Http404

from access_programme import selectors
from access_programme.selectors import WorklistRow
from registry.models import User
from registry.roles import Area, may_write


def require_pharmacy(user: User) -> None:
    if not may_write(user, Area.PHARMACY):
        raise PermissionDenied("The pharmacy pages are for pharmacists and data managers.")


def dispensing_target_or_404(user: User, study_id: str, today: dt.date) -> WorklistRow:
    """The patient's next cycle to supply; a patient the user cannot see, or not on a treatment
    route, is not found (before the role is checked, so it does not tell whether it exists)."""
    target = selectors.dispensing_target(user, study_id, today)
    if target is None:
        raise Http404("No such patient on a treatment route at your sites.")
    require_pharmacy(user)
    return target
