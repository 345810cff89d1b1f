"""Backup and restore round-trip the whole registry, audit trail included."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from registry import services
from registry.models import ClinicalRecord, Diagnosis, Patient

pytestmark = [
    pytest.mark.requirement("DAT-08"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def registry_contents() -> dict[str, list[tuple]]:
    """Every clinical row and every audit row, in a stable order."""
    contents = {}
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if issubclass(model, ClinicalRecord):
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("created_at", "updated_at")]
            contents[model._meta.label] = list(model._default_manager.order_by("pk").values_list(*fields))
            history = model.history  # type: ignore[attr-defined]  # simple-history's manager
            contents[f"{model._meta.label} history"] = list(
                history.order_by("history_id").values_list("history_id", "history_type", "history_change_reason")
            )
    return contents


def test_a_backup_restores_the_registry_exactly_as_it_was(tmp_path):
    seed_cohort(patients=30, seed=41, as_of=timezone.localdate())
    before = registry_contents()
    call_command("backup", str(tmp_path / "registry.dump"), verbosity=0)

    diagnosis = Diagnosis.objects.order_by("pk").first()
    services.record_update(diagnosis, actor=None, reason="mistaken edit", expected_version=None, onset_region="bulbar")
    assert registry_contents() != before

    call_command("restore", str(tmp_path / "registry.dump"), "--yes", verbosity=0)
    assert registry_contents() == before
    assert Patient.objects.count() == 30


def test_a_damaged_backup_is_refused_and_nothing_is_replaced(tmp_path):
    seed_cohort(patients=5, seed=42, as_of=timezone.localdate())
    dump = tmp_path / "registry.dump"
    call_command("backup", str(dump), verbosity=0)
    dump.write_bytes(dump.read_bytes()[:-10])
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(dump), "--yes", verbosity=0)
    assert Patient.objects.count() == 5


def test_restore_needs_explicit_confirmation(tmp_path):
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "x.dump"))
