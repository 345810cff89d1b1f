"""Direct identifiers: validated, encrypted at rest (audit trail included), duplicates found by keyed hash."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from registry.crypto import blind_index
from registry.models import PatientIdentity
from tests.factories import IdentityFactory, PatientFactory

pytestmark = [pytest.mark.requirement("DAT-06"), pytest.mark.django_db]


def raw_rows(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return repr(cursor.fetchall())


def test_names_birth_date_and_nhs_number_are_not_stored_in_plaintext():
    IdentityFactory(given_name="Margaret", family_name="Testperson", nhs_number="943 476 5919")
    for table in ("registry_patientidentity", "registry_historicalpatientidentity"):
        stored = raw_rows(table)
        assert "Margaret" not in stored and "Testperson" not in stored and "9434765919" not in stored
        assert "-03-14" not in stored


def test_identity_reads_back_decrypted_and_normalised():
    identity = IdentityFactory(nhs_number="943-476-5919")
    fresh = PatientIdentity.objects.get(pk=identity.pk)
    assert (fresh.given_name, fresh.nhs_number) == ("Margaret", "9434765919")
    assert fresh.date_of_birth == dt.date(fresh.patient.year_of_birth, 3, 14)


def test_nhs_number_with_a_wrong_check_digit_is_refused():
    with pytest.raises(ValidationError) as error:
        IdentityFactory(nhs_number="9434765918")
    assert "nhs_number" in error.value.message_dict


def test_the_same_nhs_number_cannot_be_registered_twice():
    IdentityFactory(nhs_number="9434765919")
    with pytest.raises(ValidationError) as error:
        IdentityFactory(nhs_number="943 476 5919")
    assert "already registered" in " ".join(error.value.message_dict["nhs_number"])


def test_date_of_birth_must_match_the_year_of_birth():
    patient = PatientFactory(year_of_birth=1960)
    with pytest.raises(ValidationError):
        IdentityFactory(patient=patient, date_of_birth=dt.date(1961, 1, 1))


def test_rotated_keys_still_decrypt_old_identities(settings):
    from cryptography.fernet import Fernet

    identity = IdentityFactory()
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        assert PatientIdentity.objects.get(pk=identity.pk).family_name == "Testperson"


def test_blind_index_ignores_spacing_and_case():
    assert blind_index(" 9434765919 ") == blind_index("9434765919")
