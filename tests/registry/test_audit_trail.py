"""Every change to clinical data is audited: who, when, what and why; stale edits are refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from registry.models import ChangeReasonRequired, Diagnosis, Role
from registry.services import StaleRecordError, audited_save, record_update
from tests.factories import DiagnosisFactory, PatientFactory, SiteFactory, UserFactory, days_ago, treated_patient

pytestmark = [pytest.mark.requirement("AUD-01"), pytest.mark.django_db]


@pytest.fixture
def clinician():
    site = SiteFactory(code="GB-LON")
    return UserFactory(username="alice", first_name="Alice", last_name="Hughes", role=Role.CLINICIAN, sites=[site])


def test_creation_is_recorded_with_its_author(clinician):
    patient = PatientFactory(site=clinician.sites.get())
    diagnosis = audited_save(
        Diagnosis(
            patient=patient,
            symptom_onset_date=days_ago(400),
            onset_region="bulbar",
            diagnosis_date=days_ago(100),
            el_escorial="definite",
        ),
        actor=clinician,
    )
    entry = diagnosis.history.get()
    assert (entry.history_type, entry.history_user, entry.history_change_reason) == ("+", clinician, "Created")


def test_an_edit_records_who_what_and_why(clinician):
    diagnosis = treated_patient(site=clinician.sites.get()).diagnosis
    record_update(
        diagnosis,
        actor=clinician,
        reason="Transcription error in clinic letter",
        expected_version=1,
        onset_region="bulbar",
    )
    latest, previous = diagnosis.history.all()[:2]
    assert latest.history_user == clinician
    assert latest.history_change_reason == "Transcription error in clinic letter"
    delta = latest.diff_against(previous)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("onset_region", "lower_limb", "bulbar")]


def test_an_edit_without_a_reason_is_refused_and_nothing_changes(clinician):
    diagnosis = treated_patient(site=clinician.sites.get()).diagnosis
    with pytest.raises(ChangeReasonRequired):
        record_update(diagnosis, actor=clinician, reason="  ", expected_version=1, onset_region="bulbar")
    assert Diagnosis.objects.get(pk=diagnosis.pk).onset_region == "lower_limb"


def test_saving_a_clinical_record_directly_without_a_reason_is_refused():
    diagnosis = DiagnosisFactory()
    diagnosis.onset_region = "bulbar"
    with pytest.raises(ChangeReasonRequired):
        diagnosis.save()


def test_a_stale_edit_is_refused_and_the_first_edit_kept(clinician):
    diagnosis = treated_patient(site=clinician.sites.get()).diagnosis
    first_copy = Diagnosis.objects.get(pk=diagnosis.pk)
    second_copy = Diagnosis.objects.get(pk=diagnosis.pk)
    record_update(
        first_copy, actor=clinician, reason="Letter from neurologist", expected_version=1, onset_region="bulbar"
    )
    with pytest.raises(StaleRecordError) as error:
        record_update(second_copy, actor=clinician, reason="My edit", expected_version=1, onset_region="upper_limb")
    assert "after you opened it" in error.value.messages[0]
    assert "changed by Alice Hughes" in error.value.messages[0]
    assert Diagnosis.objects.get(pk=diagnosis.pk).onset_region == "bulbar"
    assert diagnosis.history.count() == 2


def test_each_edit_increments_the_version(clinician):
    diagnosis = treated_patient(site=clinician.sites.get()).diagnosis
    record_update(diagnosis, actor=clinician, reason="correction", expected_version=1, onset_region="bulbar")
    record_update(diagnosis, actor=clinician, reason="correction", expected_version=2, onset_region="upper_limb")
    assert Diagnosis.objects.get(pk=diagnosis.pk).version == 3


def test_an_invalid_edit_leaves_no_history_entry(clinician):
    diagnosis = treated_patient(site=clinician.sites.get()).diagnosis
    with pytest.raises(ValidationError):
        record_update(diagnosis, actor=clinician, reason="oops", expected_version=1, diagnosis_date=None)
    assert diagnosis.history.count() == 1
