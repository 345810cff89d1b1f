"""Each enrolment keeps its next cycle due date, written by the one function every path calls."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from access_programme.models import Enrolment, Route
from access_programme.next_due import next_cycle_due_refresh
from access_programme.services import cycle_start, cycle_update, enrolment_record, enrolment_update
from registry.models import Role
from tests.factories import DiagnosisFactory, PatientFactory, SiteFactory, UserFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def pharmacist():
    return UserFactory(username="chloe", role=Role.PHARMACIST, sites=[SiteFactory(code="GB-LON")])


@pytest.fixture
def patient(pharmacist):
    return treated_patient(site=pharmacist.sites.get())


def next_due(patient):
    return Enrolment.objects.get(patient=patient).next_cycle_due


def test_before_any_cycle_the_next_cycle_is_due_at_the_first_dose(patient):
    assert next_due(patient) == days_ago(84)


def test_starting_a_cycle_moves_the_next_due_date_28_days_after_its_start(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    assert next_due(patient) == days_ago(56)
    cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(50))
    assert next_due(patient) == days_ago(22)


def test_correcting_a_cycle_start_moves_the_next_due_date(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    second = cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(50))
    cycle_update(actor=pharmacist, record=second, reason="date typo", expected_version=None, start_date=days_ago(52))
    assert next_due(patient) == days_ago(24)


def test_a_refused_cycle_leaves_the_next_due_date_as_it_was(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    with pytest.raises(ValidationError):
        cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(70))
    assert next_due(patient) == days_ago(56)


def test_enrolling_and_correcting_the_first_dose_sets_the_date(pharmacist):
    patient = PatientFactory(site=pharmacist.sites.get())
    DiagnosisFactory(patient=patient)
    route = Route.objects.get(code="nhs_specials")
    enrolment = enrolment_record(
        actor=None, patient=patient, route=route, enrolment_date=days_ago(30), first_dose_date=days_ago(20)
    )
    assert next_due(patient) == days_ago(20)
    enrolment_update(actor=None, record=enrolment, reason="typo", expected_version=None, first_dose_date=days_ago(21))
    assert next_due(patient) == days_ago(21)


def test_registry_only_patients_have_no_next_cycle(pharmacist):
    patient = PatientFactory(site=pharmacist.sites.get())
    DiagnosisFactory(patient=patient)
    route = Route.objects.get(code="none")
    enrolment_record(actor=None, patient=patient, route=route, enrolment_date=days_ago(30))
    assert next_due(patient) is None


def test_the_refresh_writes_no_history_row(patient, pharmacist):
    enrolment = Enrolment.objects.get(patient=patient)
    before = enrolment.history.count()
    next_cycle_due_refresh([patient.pk])
    assert enrolment.history.count() == before
