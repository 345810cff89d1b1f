"""An investigator signs a casebook or a visit with re-authentication; signed records are locked
on every path; a data manager unlocks with a reason, which invalidates the signature."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from access_programme.services import cycle_start
from registry.models import Patient, Role, Signature, SignatureMeaning, SignatureScope
from registry.services import (
    alsfrsr_record,
    alsfrsr_update,
    consent_record,
    data_query_raise,
    diagnosis_update,
    signature_invalidate,
    signature_sign,
)
from registry.signing import signature_verifies
from tests.factories import NORMAL_ALSFRSR_ITEMS, SiteFactory, UserFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def london():
    return SiteFactory(code="GB-LON")


@pytest.fixture
def investigator(london):
    user = UserFactory(username="ivan", first_name="Ivan", last_name="Petrov", role=Role.CLINICIAN, sites=[london])
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def manager():
    return UserFactory(username="dora", role=Role.DATA_MANAGER)


@pytest.fixture
def patient(london) -> Patient:
    return treated_patient(site=london)


def sign(actor, record, **overrides) -> Signature:
    arguments = {"meaning": SignatureMeaning.APPROVAL, "password": PASSWORD, "user_id": "ivan", **overrides}
    return signature_sign(actor=actor, record=record, **arguments)


def assess(patient, days: int, actor=None):
    return alsfrsr_record(actor=actor, patient=patient, assessment_date=days_ago(days), **NORMAL_ALSFRSR_ITEMS)


def test_a_signature_records_the_printed_name_the_time_and_the_meaning(patient, investigator):
    signature = sign(investigator, patient)
    assert (signature.printed_name, signature.meaning, signature.scope) == (
        "Ivan Petrov",
        SignatureMeaning.APPROVAL,
        SignatureScope.CASEBOOK,
    )
    assert signature.signed_at is not None and signature_verifies(signature)


def test_the_first_signing_of_a_session_needs_the_right_user_id(patient, investigator):
    with pytest.raises(ValidationError) as error:
        sign(investigator, patient, user_id="someone")
    assert "nothing was signed" in error.value.message_dict["user_id"][0]
    assert not Signature.objects.exists()


def test_a_wrong_password_signs_nothing(patient, investigator):
    with pytest.raises(ValidationError) as error:
        sign(investigator, patient, password="guess", user_id=None)
    assert "nothing was signed" in error.value.message_dict["password"][0]
    assert not Signature.objects.exists()


def test_a_later_signing_needs_the_password_only(patient, investigator):
    assert sign(investigator, assess(patient, 30), user_id=None).scope == SignatureScope.VISIT


def test_a_data_manager_cannot_sign(patient, manager):
    with pytest.raises(PermissionDenied):
        signature_sign(actor=manager, record=patient, meaning="approval", password=PASSWORD)


def test_an_investigator_of_another_site_cannot_sign(patient):
    stranger = UserFactory(username="bob", role=Role.CLINICIAN, sites=[SiteFactory(code="GB-MAN")])
    with pytest.raises(PermissionDenied):
        signature_sign(actor=stranger, record=patient, meaning="approval", password=PASSWORD)


def test_a_casebook_with_open_queries_is_not_signed(patient, investigator, manager):
    data_query_raise(actor=manager, record=patient, message="?")
    with pytest.raises(ValidationError, match="1 data query is still open"):
        sign(investigator, patient)


def test_a_record_is_signed_once(patient, investigator):
    sign(investigator, patient)
    with pytest.raises(ValidationError, match="already signed"):
        sign(investigator, patient, user_id=None)


def test_a_signed_casebook_refuses_an_edit_with_a_clear_message(patient, investigator):
    sign(investigator, patient)
    with pytest.raises(ValidationError, match=r"signed by Ivan Petrov .* and is locked"):
        diagnosis_update(
            actor=investigator, record=patient.diagnosis, reason="typo", expected_version=None, svc_percent=80
        )


def test_a_signed_casebook_refuses_a_new_record(patient, investigator):
    sign(investigator, patient)
    with pytest.raises(ValidationError, match="locked"):
        assess(patient, 20, investigator)


def test_a_signed_casebook_refuses_the_pharmacy_too(patient, investigator):
    sign(investigator, patient)
    pharmacist = UserFactory(username="chloe", role=Role.PHARMACIST, sites=[patient.site])
    with pytest.raises(ValidationError, match="locked"):
        cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=patient.enrolment.first_dose_date)


def test_a_consent_can_still_be_recorded_after_sign_off(patient, investigator):
    sign(investigator, patient)
    consent_record(actor=investigator, patient=patient, form_version="v3", consent_date=days_ago(1))


def test_a_signed_visit_is_locked_and_the_others_are_not(patient, investigator):
    signed, other = assess(patient, 60), assess(patient, 30)
    sign(investigator, signed)
    with pytest.raises(ValidationError, match="This visit was signed"):
        alsfrsr_update(actor=investigator, record=signed, reason="x", expected_version=None, q1_speech=3)
    alsfrsr_update(actor=investigator, record=other, reason="x", expected_version=None, q1_speech=3)


def test_unlocking_needs_a_data_manager_and_a_reason_and_invalidates_the_signature(patient, investigator, manager):
    signature = sign(investigator, patient)
    with pytest.raises(PermissionDenied):
        signature_invalidate(actor=investigator, signature=signature, reason="mine")
    with pytest.raises(ValidationError):
        signature_invalidate(actor=manager, signature=signature, reason=" ")
    signature = signature_invalidate(actor=manager, signature=signature, reason="Late lab result to enter")
    assert not signature.is_valid and signature.invalidation_reason == "Late lab result to enter"
    assert signature.history.latest().history_change_reason == "Unlocked: Late lab result to enter"
    assess(patient, 20, investigator)  # unlocked


def test_a_new_signature_after_unlocking_covers_the_new_content(patient, investigator, manager):
    signature_invalidate(actor=manager, signature=sign(investigator, patient), reason="late result")
    assess(patient, 20, investigator)
    assert signature_verifies(sign(investigator, patient, user_id=None))


def test_content_changed_behind_the_application_no_longer_verifies(patient, investigator):
    signature = sign(investigator, patient)
    type(patient.diagnosis).objects.filter(pk=patient.diagnosis.pk).update(svc_percent=40)
    assert not signature_verifies(signature)


def test_a_signature_copied_to_another_record_does_not_verify(patient, investigator, london):
    signature = sign(investigator, patient)
    other = treated_patient(site=london)
    copy = Signature.objects.get(pk=signature.pk)
    copy.pk, copy.record_id, copy.patient = None, other.pk, other
    copy.record_type = ContentType.objects.get_for_model(Patient)
    assert not signature_verifies(copy)
