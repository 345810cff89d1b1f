"""Reads of identifiable records are logged: who viewed which patient's identity, and when."""

from __future__ import annotations

import pytest

from registry.models import IdentityAccess, Role
from registry.selectors import identities_for_display
from tests.factories import IdentityFactory, SiteFactory, UserFactory, treated_patient

pytestmark = [pytest.mark.requirement("ACC-04"), pytest.mark.django_db]


@pytest.fixture
def london_patient():
    patient = treated_patient(site=SiteFactory(code="GB-LON"))
    IdentityFactory(patient=patient)
    return patient


def test_a_clinician_reading_an_identity_is_logged(london_patient):
    clinician = UserFactory(role=Role.CLINICIAN, sites=[london_patient.site])
    shown = identities_for_display(clinician, [london_patient], channel="web", path="/patients/1/")
    assert shown[london_patient.pk].family_name == "Testperson"
    entry = IdentityAccess.objects.get()
    assert (entry.user, entry.patient, entry.channel) == (clinician, london_patient, "web")


def test_an_analyst_gets_no_identity_and_no_read_is_logged(london_patient):
    assert identities_for_display(UserFactory(role=Role.ANALYST), [london_patient], channel="api") == {}
    assert IdentityAccess.objects.count() == 0


def test_a_clinician_of_another_site_gets_no_identity(london_patient):
    outsider = UserFactory(role=Role.CLINICIAN, sites=[SiteFactory(code="GB-SHF")])
    assert identities_for_display(outsider, [london_patient], channel="web") == {}
    assert IdentityAccess.objects.count() == 0
