"""Bulk inserts (the demo cohort, on both databases) keep the audit entry complete."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from registry.bulk import FORMAT_ROWS, _copy_plan, bulk_insert_with_history, primary_keys_reserve
from registry.models import ClinicalEvent, EventType, Patient
from tests.factories import TODAY, PatientFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_bulk_insert_records_who_made_each_row_and_why():
    site, user = SiteFactory(), UserFactory()
    patients = [Patient(site=site, study_id=f"{site.code}-{n:04d}", sex="male", year_of_birth=1960) for n in (1, 2)]
    bulk_insert_with_history(patients, Patient, reason="seed", user_id=user.pk)
    history = Patient.history.filter(study_id__in=[p.study_id for p in patients])
    assert sorted((h.history_type, h.history_user_id, h.history_change_reason) for h in history) == [
        ("+", user.pk, "seed"),
        ("+", user.pk, "seed"),
    ]
    assert all(p.pk for p in patients)


def test_a_bulk_insert_of_several_formatting_blocks_writes_every_row_once_with_its_history_row():
    site = SiteFactory()
    patients = [
        Patient(site=site, study_id=f"{site.code}-{n:04d}", sex="male", year_of_birth=1960)
        for n in range(1, 2 * FORMAT_ROWS + 501)
    ]
    bulk_insert_with_history(patients, Patient, reason="seed")
    written = {p.pk: p.study_id for p in patients}
    assert dict(Patient.objects.filter(site=site).values_list("pk", "study_id")) == written
    assert dict(Patient.history.filter(site=site).values_list("id", "study_id")) == written
    assert Patient.history.filter(site=site).count() == len(patients)


@pytest.mark.parametrize(
    "detail",
    ["", "cause: respiratory failure, at home", 'he said "no more"', "line one\nline two", "=1+1", "\\N", "  "],
)
def test_a_bulk_insert_stores_free_text_exactly_as_given_in_the_record_and_its_history(detail):
    patient = PatientFactory()
    event = ClinicalEvent(patient=patient, event_type=EventType.WITHDRAWAL, event_date=TODAY, detail=detail)
    bulk_insert_with_history([event], ClinicalEvent, reason="import events.csv")
    assert ClinicalEvent.objects.get(pk=event.pk).detail == detail
    assert ClinicalEvent.history.get(id=event.pk).detail == detail


AUDITED_MODELS = sorted(
    (m for m in apps.get_models() if hasattr(m, "history") and not m.__name__.startswith("Historical")),
    key=lambda m: m._meta.label,
)


@pytest.mark.parametrize("model", AUDITED_MODELS, ids=lambda m: m._meta.label)
def test_every_audited_model_has_a_copy_plan_whose_history_row_extends_its_row(model):
    """The COPY plan refuses a history that does not mirror its table, or a nullable text column
    ('' and NULL look alike in CSV): a model added so would fail here, not in an import."""
    plan = _copy_plan(model)
    assert plan.history_columns.startswith(plan.columns)


@pytest.mark.postgres
def test_reserved_primary_keys_are_new_and_never_handed_out_again():
    site = SiteFactory()
    before = Patient.objects.create(site=site, study_id=f"{site.code}-0001", sex="male", year_of_birth=1960)
    with connection.cursor() as cursor:
        reserved = primary_keys_reserve(cursor, Patient, 3)
    after = Patient.objects.create(site=site, study_id=f"{site.code}-0002", sex="male", year_of_birth=1961)

    assert len(set(reserved)) == 3
    assert min(reserved) > before.pk
    assert after.pk not in reserved
