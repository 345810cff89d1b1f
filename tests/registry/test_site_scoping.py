"""Users see only their own sites' patients unless their role says otherwise."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from access_programme.models import Dispensing
from registry import services
from registry.models import Role
from registry.selectors import can_see_identity, patients_visible_to, records_visible_to
from tests.factories import SiteFactory, UserFactory, days_ago, treated_patient

pytestmark = [pytest.mark.requirement("ACC-01"), pytest.mark.django_db]


@pytest.fixture
def two_sites():
    london, sheffield = SiteFactory(code="GB-LON"), SiteFactory(code="GB-SHF")
    return london, sheffield, treated_patient(site=london), treated_patient(site=sheffield)


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.PHARMACIST])
def test_site_staff_see_only_their_sites_patients(two_sites, role):
    london, _, london_patient, _ = two_sites
    user = UserFactory(role=role, sites=[london])
    assert list(patients_visible_to(user)) == [london_patient]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DATA_MANAGER])
def test_analysts_and_data_managers_see_every_site(two_sites, role):
    user = UserFactory(role=role)
    assert patients_visible_to(user).count() == 2


def test_related_records_follow_the_same_scope(two_sites):
    london, _, london_patient, sheffield_patient = two_sites
    user = UserFactory(role=Role.CLINICIAN, sites=[london])
    for patient in (london_patient, sheffield_patient):
        services.outcome_record(actor=None, patient=patient, event_type="gastrostomy", event_date=days_ago(3))
    visible = records_visible_to(user, type(london_patient.events.get()))
    assert [event.patient for event in visible] == [london_patient]
    assert records_visible_to(user, Dispensing).count() == 0


def test_an_inactive_user_sees_nothing(two_sites):
    user = UserFactory(role=Role.DATA_MANAGER, is_active=False)
    assert patients_visible_to(user).count() == 0


def test_analysts_never_see_identity():
    assert can_see_identity(UserFactory(role=Role.ANALYST)) is False
    assert can_see_identity(UserFactory(role=Role.CLINICIAN)) is True


def test_a_clinician_cannot_record_data_for_another_sites_patient(two_sites):
    london, _, _, sheffield_patient = two_sites
    clinician = UserFactory(role=Role.CLINICIAN, sites=[london])
    with pytest.raises(PermissionDenied):
        services.outcome_record(
            actor=clinician, patient=sheffield_patient, event_type="gastrostomy", event_date=days_ago(2)
        )
    assert sheffield_patient.events.count() == 0


def test_an_analyst_cannot_write_clinical_data(two_sites):
    _, _, london_patient, _ = two_sites
    with pytest.raises(PermissionDenied):
        services.outcome_record(
            actor=UserFactory(role=Role.ANALYST),
            patient=london_patient,
            event_type="gastrostomy",
            event_date=days_ago(2),
        )


def test_a_clinician_cannot_register_a_patient_at_another_site(two_sites):
    london, sheffield, _, _ = two_sites
    clinician = UserFactory(role=Role.CLINICIAN, sites=[london])
    with pytest.raises(PermissionDenied):
        services.patient_register(
            actor=clinician, site=sheffield, sex="male", year_of_birth=1960, diagnosis={}, consent={}
        )
