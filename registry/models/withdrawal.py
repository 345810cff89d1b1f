"""Consent withdrawal by level: a dated, append-only record per withdrawal, with who took it.

Levels only escalate (`WithdrawalLevel`, least to most); the level in force on a day is the
highest recorded up to that day. A record entered in error is never edited or deleted: a new
record `corrects` it, with a reason, and the corrected one no longer counts. Records the law
requires to be kept (specials records, pharmacovigilance) stay whatever the level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registry.models.base import ClinicalRecord
from registry.models.patient import Patient
from registry.models.people import User


class WithdrawalLevel(models.TextChoices):
    """Levels of withdrawal, least to most; each includes the ones before it."""

    TREATMENT_ONLY = "treatment_only", "Treatment only: follow-up and data collection continue"
    NO_FURTHER_CONTACT = "no_further_contact", "No further contact (records may still be updated)"
    NO_FURTHER_COLLECTION = "no_further_collection", "No further data collection (keep data already given)"
    NO_DATA_USE = "no_data_use", "No use of data: excluded from new exports and analyses (kept for the audit trail)"


#: Level -> rank (higher is more withdrawn).
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(WithdrawalLevel.values, start=1)}
#: Levels that stop data collection: nothing dated after them may be entered (but what the law keeps).
COLLECTION_STOPPED = (WithdrawalLevel.NO_FURTHER_COLLECTION, WithdrawalLevel.NO_DATA_USE)


class AppendOnly(Exception):
    """A withdrawal record was to be changed or deleted: enter a correcting record instead."""


class ConsentWithdrawal(ClinicalRecord):
    """One withdrawal of consent, at one level, from a date; or the correction of one entered in error."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="withdrawals",
        db_index=False,  # `withdrawal_patient_level` leads with it
    )
    level = models.CharField(
        max_length=30,
        choices=WithdrawalLevel.choices,
        blank=True,
        help_text="Empty only on a correction: the corrected withdrawal should not have been recorded at all.",
    )
    effective_on = models.DateField("Date of withdrawal", null=True, blank=True)
    reason = models.TextField(help_text="As the patient gave it; for a correction, what was wrong.")
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Empty: a system job."
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        help_text="The withdrawal this record corrects (entered in error); it no longer counts.",
    )

    timeline_date_field = "effective_on"
    follows_symptom_onset = False
    signature_locks = False  # a patient may withdraw after sign-off
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "recorded_at", "pk"]
        indexes = [models.Index(fields=["patient", "level"], name="withdrawal_patient_level")]

    def __str__(self) -> str:
        what = self.get_level_display() or "no withdrawal"
        return f"Withdrawal of {self.patient_id}: {what} from {self.effective_on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnly("A withdrawal is never changed: record a correction with its reason.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("A withdrawal is never deleted: record a correction with its reason.")

    @property
    def counts(self) -> bool:
        """Whether the record is in force: it states a level and no later record corrects it."""
        return bool(self.level) and not hasattr(self, "correction")

    def clean(self) -> None:
        super().clean()
        if not self.corrects_id:
            if not self.level:
                raise ValidationError({"level": "State what the patient withdrew from."})
            if self.effective_on is None:
                raise ValidationError({"effective_on": "Give the date of withdrawal."})
        elif self.level and self.effective_on is None:
            raise ValidationError({"effective_on": "Give the date of withdrawal."})
        if not (self.reason or "").strip():
            raise ValidationError({"reason": "Give the reason (for a correction: what was wrong)."})
        if self.patient_id is None:
            return
        self._check_against_the_patients_records()

    def _check_against_the_patients_records(self) -> None:
        """After a consent, escalating, and a correction corrects a withdrawal of the same patient still in force."""
        if self.effective_on is not None:
            consents = self.patient.consents.order_by("consent_date")
            first_consent = consents.values_list("consent_date", flat=True).first()
            if first_consent is None or self.effective_on < first_consent:
                raise ValidationError({"effective_on": "Withdrawal cannot precede consent."})
        existing = list(ConsentWithdrawal.objects.filter(patient_id=self.patient_id))
        if self.corrects_id:
            target = next((r for r in existing if r.pk == self.corrects_id), None)
            if target is None:
                raise ValidationError({"corrects": "This withdrawal is another patient's."})
            if any(r.corrects_id == target.pk for r in existing if r.pk != self.pk):
                raise ValidationError({"corrects": "This withdrawal has already been corrected."})
        error = escalation_error(existing, self)
        if error:
            raise ValidationError({"level": error})


def in_force(records: Iterable[ConsentWithdrawal]) -> list[ConsentWithdrawal]:
    """The records that count, by date: those with a level that no other of `records` corrects."""
    records = list(records)
    corrected = {r.corrects_id for r in records if r.corrects_id}
    kept = [r for r in records if r.level and r.effective_on and r.pk not in corrected]
    return sorted(kept, key=lambda r: (r.effective_on, LEVEL_RANK[r.level]))


def escalation_error(existing: Iterable[ConsentWithdrawal], new: ConsentWithdrawal) -> str | None:
    """Why `new` would not escalate among the records in force (less the one it corrects), if so:
    every withdrawal dated on or before it must be of a lower level, every later one higher. A
    level that does not exist has no rank: the field's own validation names it."""
    if new.level not in LEVEL_RANK or new.effective_on is None:
        return None
    others = in_force(r for r in existing if r.pk != new.corrects_id and r.pk != new.pk)
    rank = LEVEL_RANK[new.level]
    for record in others:
        assert record.effective_on is not None  # in_force keeps dated records only
        if record.effective_on <= new.effective_on and LEVEL_RANK[record.level] >= rank:
            return (
                "A withdrawal can only escalate: the patient already withdrew at the level "
                f"\u201c{record.get_level_display()}\u201d on {record.effective_on:%d %b %Y}. "
                "A withdrawal entered in error is corrected, not overwritten."
            )
        if record.effective_on > new.effective_on and LEVEL_RANK[record.level] <= rank:
            return (
                f"A withdrawal at the level \u201c{record.get_level_display()}\u201d is recorded from "
                f"{record.effective_on:%d %b %Y}, later than this date: levels can only escalate over time."
            )
    return None


def level_on(records: Iterable[ConsentWithdrawal], day: dt.date) -> str:
    """The level in force on `day` (the highest recorded up to then), or "" for none."""
    levels = [r.level for r in in_force(records) if r.effective_on and r.effective_on <= day]
    return max(levels, key=LEVEL_RANK.__getitem__, default="")


def withdrawals_in_force(model: Any = None) -> models.QuerySet[ConsentWithdrawal]:
    """Every withdrawal that counts (has a level, not corrected), as a query; `model` is the
    `ConsentWithdrawal` class to read (a migration passes its historical one)."""
    return (model or ConsentWithdrawal).objects.exclude(level="").filter(correction__isnull=True)


def collection_withdrawals(patient_ids: list[int]) -> dict[int, dt.date]:
    """Patient id → the earliest withdrawal from further data collection (or from any use of
    the data), for those of `patient_ids` who withdrew: one query for a whole import chunk."""
    return _earliest(patient_ids, COLLECTION_STOPPED)


def treatment_withdrawals(patient_ids: list[int]) -> dict[int, dt.date]:
    """Patient id → the earliest withdrawal in force at any level (every level stops treatment)."""
    return _earliest(patient_ids, tuple(WithdrawalLevel))


def _earliest(patient_ids: list[int], levels: tuple[str, ...]) -> dict[int, dt.date]:
    rows = (
        withdrawals_in_force()
        .filter(patient_id__any_of=patient_ids, level__in=levels)
        .values("patient_id")
        .annotate(first=models.Min("effective_on"))
        .values_list("patient_id", "first")
    )
    return {patient_id: first for patient_id, first in rows if first is not None}
