"""Fixtures for the web pages: two sites, one user per role, and small record builders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from registry import services
from registry.models import AlsfrsrAssessment, Role, Site, User
from tests.conftest import login_with_second_factor
from tests.factories import NORMAL_ALSFRSR_ITEMS, CycleFactory, SiteFactory, UserFactory, days_ago, treated_patient


@pytest.fixture
def london(db) -> Site:
    return SiteFactory.create(code="GB-LON", name="London MND Care Centre")


@pytest.fixture
def sheffield(db) -> Site:
    return SiteFactory.create(code="GB-SHF", name="Sheffield MND Care Centre")


@pytest.fixture
def clinician(london) -> User:
    return UserFactory.create(
        username="alice", first_name="Alice", last_name="Hughes", role=Role.CLINICIAN, sites=[london]
    )


@pytest.fixture
def pharmacist(london) -> User:
    return UserFactory.create(
        username="chloe", first_name="Chloe", last_name="Patel", role=Role.PHARMACIST, sites=[london]
    )


@pytest.fixture
def data_manager(db) -> User:
    return UserFactory.create(username="erin", role=Role.DATA_MANAGER, email="erin@example.org")


@pytest.fixture
def analyst(db) -> User:
    return UserFactory.create(username="dev", role=Role.ANALYST)


def logged_in(user: User) -> Client:
    client = Client()
    login_with_second_factor(client, user)
    return client


@pytest.fixture
def clinician_client(clinician) -> Client:
    return logged_in(clinician)


@pytest.fixture
def pharmacist_client(pharmacist) -> Client:
    return logged_in(pharmacist)


def assess(patient, when: dt.date, **items: int | None) -> AlsfrsrAssessment:
    return services.alsfrsr_record(
        actor=None, patient=patient, assessment_date=when, **{**NORMAL_ALSFRSR_ITEMS, **items}
    )


def on_schedule(patient, cycles: int, first_start_days_ago: int = 84) -> None:
    """Cycles every 28 days from the factory's first dose (84 days ago by default)."""
    for number in range(1, cycles + 1):
        start = days_ago(first_start_days_ago - 28 * (number - 1))
        CycleFactory(patient=patient, cycle_number=number, start_date=start, total_dose_miu=Decimal(10))


def followed_patient(site: Site, **fields: Any):
    """A treated patient with three cycles (next due today) and a recent ALSFRS-R."""
    patient = treated_patient(site=site, **fields)
    on_schedule(patient, 3)
    assess(patient, days_ago(10), q8_walking=3)
    return patient
