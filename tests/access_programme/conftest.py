"""The pharmacist and the treated patient that most access-programme tests start from; a module
that needs another site or a second pharmacist defines its own."""

from __future__ import annotations

import pytest

from registry.models import Role
from tests.factories import SiteFactory, UserFactory, treated_patient


@pytest.fixture
def pharmacist():
    return UserFactory(username="chloe", role=Role.PHARMACIST, sites=[SiteFactory(code="GB-LON")])


@pytest.fixture
def patient(pharmacist):
    return treated_patient(site=pharmacist.sites.get())
