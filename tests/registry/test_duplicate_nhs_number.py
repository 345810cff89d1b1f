"""A possible duplicate NHS number goes to the data managers; a clinician of another site is not told the
patient exists."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from registry.models import Notification, Role
from registry.services.identity import nhs_number_duplicate_screen
from tests.factories import IdentityFactory, SiteFactory, UserFactory, treated_patient

pytestmark = [pytest.mark.requirement("ACC-01"), pytest.mark.django_db]

NHS = "9434765919"


@pytest.fixture
def london_patient():
    patient = treated_patient(site=SiteFactory(code="GB-LON"))
    IdentityFactory(patient=patient, nhs_number=NHS)
    return patient


def test_a_clinician_of_another_site_is_refused_without_being_told_the_patient_exists(london_patient):
    manager = UserFactory(role=Role.DATA_MANAGER)
    outsider = UserFactory(role=Role.CLINICIAN, sites=[SiteFactory(code="GB-SHF")])
    with pytest.raises(ValidationError) as refused:
        nhs_number_duplicate_screen(actor=outsider, nhs_number="943 476 5919")
    message = " ".join(refused.value.message_dict["nhs_number"])
    assert london_patient.study_id not in message and "GB-LON" not in message
    assert "already registered" not in message and "enrolled" not in message
    notice = Notification.objects.get(user=manager)
    assert london_patient.study_id in notice.body and "GB-SHF" in notice.body


def test_a_clinician_of_the_same_site_is_left_to_the_models_own_message(london_patient):
    colleague = UserFactory(role=Role.CLINICIAN, sites=[london_patient.site])
    nhs_number_duplicate_screen(actor=colleague, nhs_number=NHS)
    assert not Notification.objects.exists()


def test_a_new_nhs_number_passes_the_screen_silently():
    outsider = UserFactory(role=Role.CLINICIAN, sites=[SiteFactory(code="GB-SHF")])
    nhs_number_duplicate_screen(actor=outsider, nhs_number=NHS)
    assert not Notification.objects.exists()
