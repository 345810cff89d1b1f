"""Outcomes and milestones: death (unique, nothing after it), tracheostomy, ventilation, withdrawal."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.models.base import ClinicalRecord, as_date, check_order
from registry.models.choices import EventType
from registry.models.patient import Consent, Patient, symptom_onset


class ClinicalEvent(ClinicalRecord):
    """An outcome or milestone. Death is unique and nothing may follow it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="events")
    event_type = models.CharField(max_length=24, choices=EventType.choices)
    event_date = models.DateField()
    detail = models.TextField(blank=True, help_text="Cause of death, reason for withdrawal, …")

    timeline_date_field = "event_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "event_date", "event_type"]
        # Lists filter on "died, withdrew or was lost": the patients with an event of a type.
        indexes = [models.Index(fields=["event_type", "patient"], name="event_type_patient")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "event_type", "event_date"],
                name="one_event_per_type_day",
                violation_error_message="This event is already recorded on this date.",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(event_type="death"),
                name="one_death_per_patient",
                violation_error_message="A death is already recorded for this patient.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_date} of {self.patient_id}"

    def clean(self) -> None:
        is_death = self.patient_id and self.event_type == EventType.DEATH
        if is_death:
            patient = self.patient
            death_errors(
                self.event_date,
                other_death=patient.death_date(exclude=self),
                latest_record=latest_record_date(patient, exclude=self),
                symptom_onset=symptom_onset(patient),
            )
        super().clean()
        if self.patient_id and not is_death:
            check_order(symptom_onset(self.patient), self.event_date, "event_date", EVENT_BEFORE_ONSET)


EVENT_BEFORE_ONSET = "The event precedes symptom onset."


def death_errors(
    event_date: dt.date | None,
    *,
    other_death: dt.date | None,
    latest_record: dt.date | None,
    symptom_onset: dt.date | None,
) -> None:
    """What a death adds to every record's rules (`ClinicalRecord.clean`), in order: one death,
    nothing recorded after it, not before symptom onset.

    The one implementation, over plain facts, so the importer can give them from what it
    loaded for a chunk where `ClinicalEvent.clean()` queries them. `other_death` is the date of
    another death of the patient; `latest_record` the latest timeline date of its other records.
    """
    if other_death is not None:
        raise ValidationError({"event_type": "A death is already recorded for this patient."})
    if event_date is None:
        return
    if latest_record is not None and latest_record > event_date:
        raise ValidationError(
            {"event_date": f"Records exist dated {latest_record:%d %b %Y}, after this date of death."}
        )
    check_order(symptom_onset, event_date, "event_date", EVENT_BEFORE_ONSET)


def timeline_models() -> list[type[ClinicalRecord]]:
    """The patient's dated records a date of death may not precede (`latest_record_date`)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord)
        and model.timeline_date_field
        and model is not Consent
        and "patient" in {f.name for f in model._meta.get_fields()}
    ]


def latest_record_date(patient: Patient, exclude: models.Model | None = None) -> dt.date | None:
    """The latest timeline date among all of a patient's clinical records."""
    latest: dt.date | None = None
    for model in timeline_models():
        qs = model.objects.filter(patient=patient)
        if exclude is not None and isinstance(exclude, model):
            qs = qs.exclude(pk=exclude.pk)
        value = qs.aggregate(m=models.Max(model.timeline_date_field))["m"]
        if value is not None:
            value = as_date(value)
            latest = value if latest is None or value > latest else latest
    return latest
