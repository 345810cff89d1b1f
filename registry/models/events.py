"""Outcomes and milestones: death (unique, nothing after it), tracheostomy, ventilation, withdrawal."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.models.base import ClinicalRecord
from registry.models.choices import CtcaeGrade, EventType, YesNoUnknown
from registry.models.patient import Consent, Patient


class ClinicalEvent(ClinicalRecord):
    """An outcome or milestone. Death is unique and nothing may follow it."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # `one_event_per_type_day` leads with it
    )
    event_type = models.CharField(max_length=24, choices=EventType.choices)
    event_date = models.DateField()
    detail = models.TextField(blank=True, help_text="Cause of death, reason for withdrawal, …")
    # A death needs no adverse event (death from ALS progression is not one), but the death form
    # asks whether one caused it, and which.
    ae_caused_death = models.CharField(
        "Did an adverse event cause the death?", max_length=8, choices=YesNoUnknown.choices, blank=True
    )
    caused_by_adverse_event = models.ForeignKey(
        "registry.AdverseEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="Adverse event that caused the death",
    )

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
        cause_of_death_errors(self)
        if self.patient_id and self.event_type == EventType.DEATH:
            patient = self.patient
            death_errors(
                self.event_date,
                other_death=patient.death_date(exclude=self),
                latest_record=latest_record_date(patient, exclude=self),
            )
        super().clean()


def cause_of_death_errors(event: ClinicalEvent) -> None:
    """The adverse event named as the cause: only on a death, the patient's own, fatal (grade 5)
    and ending on the date of death."""
    ae = event.caused_by_adverse_event
    if event.event_type != EventType.DEATH:
        if ae is not None or event.ae_caused_death:
            raise ValidationError({"ae_caused_death": "Only a death has an adverse event as its cause."})
        return
    if ae is None:
        if event.ae_caused_death == YesNoUnknown.YES:
            raise ValidationError({"caused_by_adverse_event": "Choose the adverse event that caused the death."})
        return
    if event.ae_caused_death != YesNoUnknown.YES:
        raise ValidationError({"ae_caused_death": "An adverse event is named as the cause: answer yes."})
    if ae.patient_id != event.patient_id:
        raise ValidationError({"caused_by_adverse_event": "This adverse event is another patient's."})
    if ae.ctcae_grade != CtcaeGrade.DEATH:
        raise ValidationError(
            {"caused_by_adverse_event": f"{ae.term} is grade {ae.ctcae_grade}: make it grade 5 (fatal) first."}
        )
    if ae.resolution_date is not None and event.event_date is not None and ae.resolution_date != event.event_date:
        raise ValidationError(
            {"event_date": f"{ae.term} ended in death on {ae.resolution_date:%d %b %Y}: record the death on that date."}
        )


def death_errors(event_date: dt.date | None, *, other_death: dt.date | None, latest_record: dt.date | None) -> None:
    """What a death adds to every record's rules (`ClinicalRecord.clean`): one death, and
    nothing recorded after it.

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


def timeline_models() -> list[type[ClinicalRecord]]:
    """The patient's dated records a date of death may not precede (`latest_record_date`).

    Read from the app registry, so records of apps above this one (cycles, dispensings) count
    without this module importing them.
    """
    return [
        model
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord)
        and model.timeline_date_field
        and model is not Consent
        and "patient" in {f.name for f in model._meta.get_fields()}
    ]


def latest_record_dates(patient_ids: list[int], exclude: models.Model | None = None) -> dict[int, dt.date]:
    """The latest timeline date per patient over every clinical record (`ClinicalRecord.timeline_dates`:
    an adverse event's resolution and a cycle's last dosing day count, not only their first dates)."""
    latest: dict[int, dt.date] = {}
    if not patient_ids:
        return latest
    for model in timeline_models():
        # Every timeline model has a patient (see timeline_models); the abstract base does not.
        records = model._default_manager.filter(**{"patient_id__any_of": patient_ids}).only(
            "patient_id", *model.timeline_fields()
        )
        if exclude is not None and isinstance(exclude, model) and exclude.pk:
            records = records.exclude(pk=exclude.pk)
        for record in records.iterator(chunk_size=5000):
            for _, value in record.timeline_dates():
                patient_id = record.patient_id  # type: ignore[attr-defined]
                if patient_id not in latest or value > latest[patient_id]:
                    latest[patient_id] = value
    return latest


def latest_record_date(patient: Patient, exclude: models.Model | None = None) -> dt.date | None:
    """The latest timeline date among all of a patient's clinical records."""
    return latest_record_dates([patient.pk], exclude=exclude).get(patient.pk)
