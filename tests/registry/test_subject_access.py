"""The subject-access export: everything held on one patient, for roles allowed identities, logged."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from registry.models import IdentityAccess, Role
from tests.conftest import login_with_second_factor
from tests.factories import IdentityFactory, SiteFactory, UserFactory, treated_patient

pytestmark = [pytest.mark.requirement("ACC-04"), pytest.mark.django_db]


@pytest.fixture
def patient():
    patient = treated_patient(site=SiteFactory(code="GB-LON"))
    IdentityFactory(patient=patient)
    return patient


def export(user, patient):
    client = Client()
    login_with_second_factor(client, user)
    return client.get(f"/patients/{patient.study_id}/subject-access.json")


def test_a_clinician_of_the_site_exports_everything_held_on_the_patient_and_it_is_logged(patient):
    clinician = UserFactory(role=Role.CLINICIAN, sites=[patient.site])
    response = export(clinician, patient)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]
    held = json.loads(response.content)
    assert held["registry.PatientIdentity"][0]["fields"]["family_name"] == "Testperson"
    assert "registry.Diagnosis" in held and "registry.HistoricalDiagnosis" in held  # the record and its audit
    assert "access_programme.Enrolment" in held
    entry = IdentityAccess.objects.get(channel="subject access export")
    assert (entry.user, entry.patient) == (clinician, patient)


def test_an_analyst_may_not_take_a_subject_access_export(patient):
    assert export(UserFactory(role=Role.ANALYST), patient).status_code == 403
    assert not IdentityAccess.objects.exists()


def test_a_clinician_of_another_site_gets_not_found(patient):
    outsider = UserFactory(role=Role.CLINICIAN, sites=[SiteFactory(code="GB-SHF")])
    assert export(outsider, patient).status_code == 404
