"""Everything the registry holds on one patient, for a subject-access request (UK GDPR Art. 15).

Every model that points at the patient is included (clinical records, enrolment, cycles,
dispensing, adverse events, safety cases, data queries, the identity) with its audit history
and the identity access log, found from the model graph so a new record type is never left
out. Only roles allowed identities may take it, only for patients they may see, and the export
is logged as a read of the identity.
"""

from __future__ import annotations

from typing import Any

from django.core import serializers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import ForeignObjectRel

from registry.models import Patient, User
from registry.selectors import can_see_identity, identity_reads_log, patients_visible_to

CHANNEL = "subject access export"


def _patient_fields() -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every foreign key to Patient, audit tables included."""
    found: set[tuple[type[models.Model], str]] = set()
    for relation in Patient._meta.get_fields(include_hidden=True):
        # Reverse relations (ManyToOneRel, OneToOneRel) are the keys other models hold on Patient.
        if isinstance(relation, ForeignObjectRel) and not relation.many_to_many:
            model = relation.related_model
            if isinstance(model, type) and issubclass(model, models.Model):
                found.add((model, relation.field.name))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


def subject_access_export(*, actor: User, patient: Patient, path: str = "") -> dict[str, Any]:
    """All records on `patient` as plain data, by model label; logged as an identity read."""
    if not can_see_identity(actor) or not patients_visible_to(actor).filter(pk=patient.pk).exists():
        raise PermissionDenied("Your role may not take a subject-access export of this patient.")
    held: dict[str, Any] = {"patient": serializers.serialize("python", [patient])}
    for model, field_name in _patient_fields():
        rows = model._default_manager.filter(**{field_name: patient}).order_by("pk")
        if rows.exists():
            held[model._meta.label] = serializers.serialize("python", rows)
    identity_reads_log(actor, [patient.pk], channel=CHANNEL, path=path)
    return held
