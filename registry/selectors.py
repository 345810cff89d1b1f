"""Reads. `patients_visible_to` is the one rule deciding which patients a user may see."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from registry.models import Patient, Role, Site, User

M = TypeVar("M", bound=models.Model)

ALL_SITE_ROLES = frozenset({Role.ANALYST, Role.DATA_MANAGER})


def sees_all_sites(user: User) -> bool:
    return bool(user.is_superuser or user.role in ALL_SITE_ROLES)


def can_see_identity(user: User) -> bool:
    """Analysts work on pseudonymised data only; everyone else with access may see identity."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role != Role.ANALYST))


def sites_visible_to(user: User) -> models.QuerySet[Site]:
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if sees_all_sites(user):
        return Site.objects.all()
    return user.sites.all()


def patients_visible_to(user: User) -> models.QuerySet[Patient]:
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    if sees_all_sites(user):
        return Patient.objects.all()
    return Patient.objects.filter(site__in=user.sites.all())


def records_visible_to(user: User, model: type[M], patient_path: str = "patient") -> models.QuerySet[M]:
    """Any patient-owned record, scoped through the same rule as patients."""
    queryset = model._default_manager.all()
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if sees_all_sites(user):
        return queryset
    return queryset.filter(**{f"{patient_path}__site__in": user.sites.all()})
