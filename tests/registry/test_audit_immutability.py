"""The audit trail is append-only: not editable or deletable by the app, the admin or raw SQL."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from registry.audit_guard import append_only_tables, historical_tables
from registry.db_roles import as_owner
from registry.models import Diagnosis, PatientIdentity
from tests.conftest import login_with_second_factor
from tests.factories import IdentityFactory, treated_patient

pytestmark = [pytest.mark.requirement("AUD-02"), pytest.mark.django_db]


def test_every_clinical_model_has_an_audit_table():
    assert {
        "registry_historicaldiagnosis",
        "registry_historicalpatientidentity",
        "access_programme_historicaldispensing",
        "survival_historicalbenchmark",
    } <= set(historical_tables())


def test_the_access_logs_are_append_only_like_the_audit_trail():
    assert "registry_identityaccess" in append_only_tables()
    assert set(historical_tables()) < set(append_only_tables())


# The app role may not UPDATE or DELETE these tables at all (tests/security/test_database_roles.py);
# the trigger below holds even for the owner, who may.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_editing_an_audit_row_is_refused_by_the_database_even_to_the_owner():
    diagnosis = treated_patient().diagnosis
    entry = diagnosis.history.get()
    with as_owner(), pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        type(entry).objects.filter(pk=entry.pk).update(history_change_reason="nothing to see")
    assert diagnosis.history.get().history_change_reason == "Created"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deleting_an_audit_row_is_refused_by_the_database_even_to_the_owner():
    diagnosis = treated_patient().diagnosis
    with as_owner(), pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        diagnosis.history.all().delete()
    assert diagnosis.history.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_raw_sql_cannot_delete_audit_rows_either():
    treated_patient()
    with as_owner(), pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_historicaldiagnosis")
    assert Diagnosis.history.count() == 1


def test_the_admin_offers_no_deletion_of_history(client, admin_user):
    login_with_second_factor(client, admin_user)
    diagnosis = treated_patient().diagnosis
    response = client.get(f"/admin/registry/historicaldiagnosis/{diagnosis.history.get().pk}/delete/")
    assert response.status_code == 404


# On PostgreSQL the rotation connects as the owner, which it can only do outside a transaction.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_key_rotation_reencrypts_identities_and_their_history(settings):
    from cryptography.fernet import Fernet

    identity = IdentityFactory(nhs_number="9434765919")
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        call_command("rotate_identity_keys", verbosity=0)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):  # the old key is retired
        fresh = PatientIdentity.objects.get(pk=identity.pk)
        assert (fresh.family_name, fresh.nhs_number) == ("Testperson", "9434765919")
        assert PatientIdentity.history.get().given_name == "Margaret"
