"""Celery tasks of the registry: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from registry.services.quality import data_quality_scan


@shared_task
def data_quality_scan_task() -> int:
    """Scheduled by beat every night: run the active data-quality rules over every patient."""
    return data_quality_scan(actor=None)
