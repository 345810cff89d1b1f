"""Migration 0017 moves each consent's withdrawal (one overwritten field until then) into a
withdrawal record: the level, date and reason, and who recorded it and when, read from the
consent's audit trail; the consent's old audit rows keep their values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from registry.audit_guard import install
from registry.db_roles import as_owner, grant_app_privileges

pytestmark = [pytest.mark.postgres]

BEFORE = [("registry", "0016_withdrawal_levels")]
AFTER = [("registry", "0017_consent_withdrawal_records")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture
def latest_schema_afterwards():
    """Going back to registry 0016 also unapplies the later migrations of other apps that depend on
    0017 (access_programme 0013: the enrolment's site); migrating forward to 0017 alone does not
    reapply them, so the tests after this one would meet an older schema."""
    yield
    with as_owner():
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
        install(connection)
        grant_app_privileges()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("latest_schema_afterwards")
def test_existing_withdrawals_become_records_with_who_took_them_and_when():
    with as_owner():
        old = migrate(BEFORE)
        site = old.get_model("registry", "Site").objects.get_or_create(code="GB-LON", defaults={"name": "London"})[0]
        nurse = old.get_model("registry", "User").objects.create(username="nurse", role="clinician")
        Patient = old.get_model("registry", "Patient")
        Consent = old.get_model("registry", "Consent")
        HistoricalConsent = old.get_model("registry", "HistoricalConsent")
        withdrew = Patient.objects.create(study_id="GB-LON-0901", site=site, sex="female", year_of_birth=1960)
        stayed = Patient.objects.create(study_id="GB-LON-0902", site=site, sex="male", year_of_birth=1955)
        consent = Consent.objects.create(
            patient=withdrew,
            form_version="v1",
            consent_date=dt.date(2025, 1, 6),
            withdrawn_on=dt.date(2025, 6, 2),
            withdrawal_scope="no_data_use",
            withdrawal_reason="Moving abroad",
        )
        Consent.objects.create(patient=stayed, form_version="v1", consent_date=dt.date(2025, 1, 6))
        taken = dt.datetime(2025, 6, 3, 9, 30, tzinfo=dt.UTC)
        common = {
            "id": consent.pk,
            "patient_id": withdrew.pk,
            "form_version": "v1",
            "consent_date": consent.consent_date,
            "consents_to_registry": True,
            "consents_to_data_sharing": True,
            "consents_to_future_contact": False,
            "version": 1,
            "created_at": taken,
            "updated_at": taken,
            "history_type": "~",
        }
        HistoricalConsent.objects.create(
            **common,
            withdrawn_on=None,
            withdrawal_scope="",
            withdrawal_reason="",
            history_date=taken,
            history_user=None,
        )
        HistoricalConsent.objects.create(
            **common,
            withdrawn_on=consent.withdrawn_on,
            withdrawal_scope="no_data_use",
            withdrawal_reason="Moving abroad",
            history_date=taken + dt.timedelta(minutes=5),
            history_user=nurse,
        )

        new = migrate(AFTER)
        install(connection)
        grant_app_privileges()

    ConsentWithdrawal = new.get_model("registry", "ConsentWithdrawal")
    records = list(ConsentWithdrawal.objects.values("patient_id", "level", "effective_on", "reason", "recorded_by_id"))
    assert records == [
        {
            "patient_id": withdrew.pk,
            "level": "no_data_use",
            "effective_on": dt.date(2025, 6, 2),
            "reason": "Moving abroad",
            "recorded_by_id": nurse.pk,
        }
    ]
    record = ConsentWithdrawal.objects.get()
    assert record.recorded_at == taken + dt.timedelta(minutes=5)
    history = new.get_model("registry", "HistoricalConsentWithdrawal").objects.get(id=record.pk)
    assert history.history_change_reason.startswith(f"Moved from consent {consent.pk}")
    with connection.cursor() as cursor:  # the consent's own audit trail keeps what it said
        cursor.execute(
            "SELECT withdrawal_scope FROM registry_historicalconsent WHERE id = %s ORDER BY history_date", [consent.pk]
        )
        assert [row[0] for row in cursor.fetchall()] == ["", "no_data_use"]
