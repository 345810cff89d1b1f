"""The demo cohort: deterministic, idempotent, audited, and valid under every rule."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from access_programme.models import Batch, BatchStatus, Enrolment
from access_programme.next_due import next_due_refresh
from registry.models import AlsfrsrAssessment, ClinicalRecord, Patient, PatientIdentity, Site, User
from tests.factories import delete_every_dispensing

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 1)


def snapshot() -> list[tuple]:
    return list(
        AlsfrsrAssessment.objects.order_by("patient__study_id", "assessment_date").values_list(
            "patient__study_id", "assessment_date", "total", "kings_stage"
        )
    ) + list(Patient.objects.order_by("study_id").values_list("study_id", "sex", "year_of_birth"))


def clinical_models() -> list[type[ClinicalRecord]]:
    return [m for m in apps.get_models() if issubclass(m, ClinicalRecord)]


def test_the_same_seed_gives_the_same_cohort():
    seed_cohort(patients=40, seed=7, as_of=AS_OF)
    first = snapshot()
    delete_every_dispensing()
    for model in reversed(clinical_models()):
        model.objects.all().delete()
    Site.objects.all().delete()
    seed_cohort(patients=40, seed=7, as_of=AS_OF)
    assert snapshot() == first


def test_a_second_run_adds_nothing():
    seed_cohort(patients=30, seed=1, as_of=AS_OF)
    counts = {m.__name__: m.objects.count() for m in clinical_models()}
    result = seed_cohort(patients=30, seed=1, as_of=AS_OF)
    assert result.skipped
    assert {m.__name__: m.objects.count() for m in clinical_models()} == counts


def test_every_seeded_record_passes_the_validation_rules():
    seed_cohort(patients=60, seed=3, as_of=timezone.localdate())
    invalid = []
    for model in clinical_models():
        for obj in model.objects.all():
            try:
                obj.full_clean()
            except ValidationError as error:
                invalid.append(f"{model.__name__} {obj.pk}: {error}")
    assert invalid == []


def test_every_seeded_row_has_an_audit_entry():
    seed_cohort(patients=25, seed=4, as_of=AS_OF)
    for model in clinical_models():
        assert model.history.filter(history_type="+").count() == model.objects.count(), model.__name__


def test_the_cohort_covers_both_routes_the_comparator_and_every_site():
    seed_cohort(patients=120, seed=5, as_of=AS_OF)
    routes = set(Enrolment.objects.values_list("route__code", flat=True))
    assert routes == {"managed_access", "nhs_specials", "none"}
    assert Patient.objects.values("site").distinct().count() == 6
    assert Batch.objects.filter(status=BatchStatus.RECALLED).count() == 1
    assert PatientIdentity.objects.exclude(nhs_number="").count() > 0


def test_demo_nhs_numbers_are_from_the_test_range():
    seed_cohort(patients=20, seed=6, as_of=AS_OF)
    assert all(i.nhs_number.startswith("999") for i in PatientIdentity.objects.exclude(nhs_number=""))


def test_seed_command_prints_each_demo_password_once():
    out = io.StringIO()
    call_command("seed_demo", "--patients", "10", "--seed", "2", "--as-of", "2026-11-01", stdout=out)
    assert "shown only this once" in out.getvalue()
    assert User.objects.filter(role="analyst").count() == 1
    again = io.StringIO()
    call_command("seed_demo", "--patients", "10", "--seed", "2", "--as-of", "2026-11-01", stdout=again)
    assert "already present" in again.getvalue() and "shown only this once" not in again.getvalue()


def test_the_seeded_cohort_keeps_each_enrolments_next_cycle_due_date():
    seed_cohort(patients=40, seed=7, as_of=AS_OF)
    stored = dict(Enrolment.objects.values_list("patient_id", "next_cycle_due"))
    assert any(stored.values())
    next_due_refresh()  # what the cycle and enrolment services would have left
    assert dict(Enrolment.objects.values_list("patient_id", "next_cycle_due")) == stored


def test_the_seeded_cohort_keeps_each_enrolments_next_alsfrsr_due_date():
    seed_cohort(patients=40, seed=7, as_of=AS_OF)
    stored = dict(Enrolment.objects.values_list("patient_id", "next_alsfrsr_due"))
    assert any(stored.values())
    next_due_refresh()  # what the ALSFRS-R, enrolment and outcome services would have left
    assert dict(Enrolment.objects.values_list("patient_id", "next_alsfrsr_due")) == stored


def test_the_seeded_cohort_keeps_each_batchs_recipient_count_in_its_latest_history_row_too():
    seed_cohort(patients=40, seed=7, as_of=AS_OF)
    counts = {b.pk: b.recipient_count for b in Batch.objects.all()}
    assert any(counts.values())
    assert counts == {
        b.pk: b.dispensings.values("patient").distinct().count() for b in Batch.objects.all()
    }  # what the dispensing service would have left
    assert {b.pk: b.history.first().recipient_count for b in Batch.objects.all()} == counts
