"""The four-path tests build on the interchange tests' sites and clean cohort; the supply-rule
tests (web, API and import in test_supply_every_path.py, the admin in test_supply_admin_path.py)
share a London pharmacist and a patient whose next cycle is due."""

from __future__ import annotations

import pytest

from access_programme.models import Enrolment
from registry.models import Patient, Role, Site, User
from tests.factories import CycleFactory, UserFactory, days_ago, treated_patient
from tests.interchange.conftest import sites  # noqa: F401 - a fixture


@pytest.fixture
def london(sites: list[Site]) -> Site:  # noqa: F811 - the fixture imported above
    return sites[0]


@pytest.fixture
def pharmacist(london: Site) -> User:
    return UserFactory.create(username="chloe", role=Role.PHARMACIST, sites=[london])


@pytest.fixture
def patient(london: Site) -> Patient:
    """Cycle 1 started 23 days ago: cycle 2 is due in 5 days."""
    patient = treated_patient(site=london)
    Enrolment.objects.filter(patient=patient).update(first_dose_date=days_ago(23))
    CycleFactory(patient=patient, cycle_number=1, start_date=days_ago(23))
    return patient
