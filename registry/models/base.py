"""The clinical record every model derives from, and the date rules all of them share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from registry.models.patient import Patient

#: The key of errors that belong to no field (Django's NON_FIELD_ERRORS).
NON_FIELD = "__all__"


#: The longest reason for change the audit trail holds: simple-history's `history_change_reason`
#: column (CharField(max_length=100) in every historical table). Forms and the API allow no more.
CHANGE_REASON_MAX_LENGTH = 100


class ChangeReasonRequired(ValidationError):
    """An update to clinical data was attempted without a (usable) reason for change."""


class ChangeReasonTooLong(ChangeReasonRequired):
    """The reason for change is longer than the audit trail's column holds."""


class ClinicalRecord(models.Model):
    """Base of every audited clinical record."""

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Name of the date field that places the record in the patient's timeline; dated records
    # are checked against the future, the patient's death and symptom onset (`timeline_dates`).
    timeline_date_field: ClassVar[str | None] = None
    # Whether the record's dates must not precede symptom onset (false for records that fix
    # onset themselves, such as the diagnosis, or that may come before it, such as consent).
    follows_symptom_onset: ClassVar[bool] = True
    # Records kept and still entered after a withdrawal from data collection, because the law
    # requires them: pharmacovigilance (adverse events) and the specials records (cycles,
    # dispensing). Named by model label, so this module imports none of them.
    KEPT_AFTER_WITHDRAWAL: ClassVar[frozenset[str]] = frozenset(
        {
            "registry.adverseevent",
            "registry.consent",
            "registry.consentwithdrawal",
            "access_programme.treatmentcycle",
            "access_programme.dispensing",
        }
    )
    # Whether an investigator's signature (of the casebook, or of this record) locks the record
    # against change (registry.signing). False for records that must stay writable after
    # sign-off: a consent withdrawal, pharmacovigilance.
    signature_locks: ClassVar[bool] = True

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding and not getattr(self, "_change_reason", None):
            raise ChangeReasonRequired("A reason for change is required to edit clinical data.")
        super().save(*args, **kwargs)
        # The reason belongs to this save only (simple-history read it in post_save).
        self.__dict__.pop("_change_reason", None)

    def timeline_patient(self) -> Patient | None:
        return getattr(self, "patient", None)

    @classmethod
    def timeline_fields(cls) -> tuple[str, ...]:
        """The fields `timeline_dates` reads (so a query can load only those)."""
        return (cls.timeline_date_field,) if cls.timeline_date_field else ()

    def timeline_dates(self) -> list[tuple[str, dt.date]]:
        """Every date this record puts on the patient's timeline, by the field that holds it.

        One date by default (`timeline_date_field`); records that span time add theirs (an
        adverse event's resolution, a cycle's last dosing day), so chronology covers them too.
        """
        field = self.timeline_date_field
        value = getattr(self, field) if field else None
        return [] if value is None or field is None else [(field, as_date(value))]

    def check_not_too_late(self, field: str, value: dt.date) -> None:
        """No timeline date in the future; a record that plans ahead (a cycle dispensed before
        it starts) overrides this with its own limit."""
        check_not_in_future(value, field)

    def clean(self) -> None:
        """The chronology every record keeps: nothing in the future, after death or before onset."""
        super().clean()
        dates = self.timeline_dates()
        if not dates:
            return
        for field, value in dates:
            self.check_not_too_late(field, value)
        patient = self.timeline_patient()
        if patient is None or patient.pk is None:
            return
        for field, value in dates:
            check_not_after_death(patient, value, field, exclude=self)
        if self._meta.label_lower not in self.KEPT_AFTER_WITHDRAWAL:
            withdrawn = patient.collection_withdrawn_on()
            for field, value in dates:
                if withdrawn is not None and as_date(value) > withdrawn:
                    raise ValidationError(
                        {
                            field: f"The patient withdrew from further data collection on {withdrawn:%d %b %Y}; "
                            "nothing dated later can be recorded."
                        }
                    )
        onset = patient.symptom_onset_date() if self.follows_symptom_onset else None
        if onset is not None:
            for field, value in dates:
                # The message is formatted only for a date that fails: `%b` costs 7 µs a row.
                if value < onset:
                    check_order(onset, value, field, f"This date precedes symptom onset ({onset:%d %b %Y}).")


def as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


#: The day the rules judge by, when a bulk caller fixed it, and whether it is a data cut-off.
_fixed_today: ContextVar[tuple[dt.date, bool] | None] = ContextVar("rules_today", default=None)


def rules_today() -> dt.date:
    """Today's local date, as the rules see it ("in the future", "dosing is over").

    `timezone.localdate()` unless a bulk caller fixed the day with `same_day()`: the lookup of
    the active time zone goes through asgiref's context-local storage and costs more than the
    rule itself when it runs for a million imported rows. An import fixes it at the file's data
    cut-off: the records are judged as they stood when they were exported, not weeks later.
    """
    fixed = _fixed_today.get()
    return timezone.localdate() if fixed is None else fixed[0]


@contextmanager
def same_day(data_cutoff: dt.date | None = None) -> Iterator[dt.date]:
    """Fix `rules_today()` for a batch of validations (one import chunk: seconds, not a day).

    With `data_cutoff` (an imported file's, never after today) the rules run against that day:
    a date after it is refused as after the cut-off, and a cycle still being dosed on it has
    missed no dose yet.
    """
    today = timezone.localdate() if data_cutoff is None else data_cutoff
    token = _fixed_today.set((today, data_cutoff is not None))
    try:
        yield today
    finally:
        _fixed_today.reset(token)


def check_not_in_future(value: dt.date | dt.datetime, field: str) -> None:
    fixed = _fixed_today.get()
    if fixed is not None and fixed[1]:
        if as_date(value) > fixed[0]:
            raise ValidationError({field: f"This date is after the data cut-off ({fixed[0]:%d %b %Y})."})
    elif as_date(value) > rules_today():
        raise ValidationError({field: "This date is in the future."})


def check_not_after_death(
    patient: Patient, value: dt.date | dt.datetime, field: str, exclude: models.Model | None = None
) -> None:
    death = patient.death_date(exclude=exclude)
    if death is not None and as_date(value) > death:
        raise ValidationError({field: f"The patient died on {death:%d %b %Y}; nothing can be recorded after death."})


def check_order(earlier: dt.date | None, later: dt.date | None, later_field: str, message: str) -> None:
    if earlier is not None and later is not None and later < earlier:
        raise ValidationError({later_field: message})
