"""Template filters for the pharmacy pages."""

from __future__ import annotations

import datetime as dt

from django import template

from access_programme.models import Batch

register = template.Library()


@register.filter
def batch_status(batch: Batch, today: dt.date) -> str:
    """The status a person reads: an expired batch is "Expired", never "Available"."""
    return batch.status_on(today)
