"""Treatment cycles (28 days, 2 MIU on days 1 to 5) and their rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from access_programme.models.enrolment import Enrolment
from registry.constants import CYCLE_LENGTH_DAYS, DOSING_DAYS_PER_CYCLE, PROTOCOL_DAILY_DOSE_MIU
from registry.models import NON_FIELD, ClinicalRecord, Finding, Patient, check_order, rules_today


class TreatmentCycle(ClinicalRecord):
    """A 28-day cycle: 2 MIU subcutaneously on days 1 to 5."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="cycles",
        db_index=False,  # `unique_cycle_number` leads with it
    )
    cycle_number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    start_date = models.DateField()
    planned_dose_miu = models.DecimalField(max_digits=5, decimal_places=2, default=PROTOCOL_DAILY_DOSE_MIU)
    days_administered = models.PositiveSmallIntegerField(
        default=DOSING_DAYS_PER_CYCLE, validators=[MaxValueValidator(DOSING_DAYS_PER_CYCLE)]
    )
    total_dose_miu = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    interrupted = models.BooleanField(default=False)
    interruption_reason = models.TextField(blank=True)

    #: What is recorded of a cycle besides its patient and number, defined once for the API, the
    #: import and the export. The interchange format carries these: a change here is a change of
    #: the format (bump `interchange.rif.FORMAT_VERSION`).
    DOSING_FIELDS: ClassVar[tuple[str, ...]] = (
        "start_date",
        "planned_dose_miu",
        "days_administered",
        "total_dose_miu",
        "interrupted",
        "interruption_reason",
    )

    timeline_date_field = "start_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "cycle_number"]
        indexes = [
            # The worklist and the "cycle overdue" filter look for patients with a cycle started lately.
            models.Index(fields=["start_date", "patient"], name="cycle_start_date_patient"),
            # A patient's latest cycle (the next due date's refresh, the follow-up's reads) in one
            # probe: with the index above as the only other ordered one, PostgreSQL walked it back
            # through everyone's recent cycles when its statistics lagged, as during an import
            # (docs/benchmarks.md).
            models.Index(fields=["patient", "start_date", "cycle_number"], name="cycle_patient_latest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "cycle_number"],
                name="unique_cycle_number",
                violation_error_message="This cycle number is already recorded for the patient.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} cycle {self.cycle_number}"

    @property
    def doses_missed(self) -> int:
        return DOSING_DAYS_PER_CYCLE - (self.days_administered or 0)

    @classmethod
    def timeline_fields(cls) -> tuple[str, ...]:
        return ("start_date", "days_administered")

    def timeline_dates(self) -> list[tuple[str, dt.date]]:
        """The start and the last dosing day so far: no dose may be given after the patient's death.

        A cycle under way counts its planned days only up to today, so opening one is not a
        date "in the future".
        """
        dates = super().timeline_dates()
        if self.start_date is not None and self.days_administered:
            last_dose = self.start_date + dt.timedelta(days=self.days_administered - 1)
            dates.append(("days_administered", min(last_dose, rules_today())))
        return dates

    def check_not_too_late(self, field: str, value: dt.date) -> None:
        """A cycle may be recorded when it is dispensed, up to `PHARMACY_DISPENSE_AHEAD_DAYS`
        before its first day; its other dates keep to today."""
        if field != "start_date":
            super().check_not_too_late(field, value)
            return
        ahead = dispense_ahead_days()
        if value > rules_today() + dt.timedelta(days=ahead):
            raise ValidationError(
                {field: f"A cycle can be dispensed and recorded at most {ahead} days before it starts."}
            )

    @property
    def next_due_date(self) -> dt.date:
        return next_cycle_due(self.start_date)

    def clean(self) -> None:
        super().clean()
        if self.patient_id:
            enrolment = Enrolment.objects.filter(patient_id=self.patient_id).select_related("route").first()
            siblings = TreatmentCycle.objects.filter(patient_id=self.patient_id)
            cycle_errors(self, enrolment=enrolment, siblings=siblings.values_list("cycle_number", "start_date", "pk"))


def dispense_ahead_days() -> int:
    """How many days before a cycle starts it may be dispensed (setting, default 7)."""
    return int(getattr(settings, "PHARMACY_DISPENSE_AHEAD_DAYS", 7))


def next_cycle_due(start_date: dt.date) -> dt.date:
    return start_date + dt.timedelta(days=CYCLE_LENGTH_DAYS)


#: Another cycle of the patient as the schedule reads it: (number, start date, primary key, or
#: None for a cycle not saved yet). A cycle whose primary key is the checked cycle's is itself.
CycleStart = tuple[int, dt.date, int | None]


def _neighbours(cycle: TreatmentCycle, siblings: Iterable[CycleStart]) -> tuple[CycleStart | None, CycleStart | None]:
    """The patient's cycles just before and just after this one, by number (itself excluded)."""
    number, pk = cycle.cycle_number, cycle.pk
    previous: CycleStart | None = None
    following: CycleStart | None = None
    for sibling in siblings:
        other, _, other_pk = sibling
        if other_pk is not None and other_pk == pk:
            continue
        if other < number and (previous is None or other > previous[0]):
            previous = sibling
        elif other > number and (following is None or other < following[0]):
            following = sibling
    return previous, following


def _check_spacing(cycle: TreatmentCycle, siblings: Iterable[CycleStart]) -> None:
    """At least 28 days from the previous cycle's start, and to the next one's."""
    previous, following = _neighbours(cycle, siblings)
    if previous is not None:
        previous_number, previous_start, _ = previous
        earliest = next_cycle_due(previous_start)
        if cycle.start_date < earliest:
            raise ValidationError(
                {
                    "start_date": (
                        f"Cycle {cycle.cycle_number} starts {(cycle.start_date - previous_start).days} days after "
                        f"cycle {previous_number}; cycles are at least {CYCLE_LENGTH_DAYS} days apart "
                        f"(earliest {earliest:%d %b %Y})."
                    )
                }
            )
    if following is not None and following[1] < cycle.next_due_date:
        raise ValidationError(
            {"start_date": f"Cycle {following[0]} would start less than {CYCLE_LENGTH_DAYS} days later."}
        )


def cycle_errors(cycle: TreatmentCycle, *, enrolment: Enrolment | None, siblings: Iterable[CycleStart]) -> None:
    """A cycle's rules after the timeline's, in order: treatment route, cycle 1 on the first dose
    date, not before enrolment, 28 days from the previous and the next cycle, dose, interruption.

    The one implementation, over what is passed in (the enrolment with its route loaded; nothing
    is queried), so the importer can give the patient's cycles from what it loaded for a chunk
    plus the rows it accepted, where `TreatmentCycle.clean()` queries them.
    """
    if cycle.start_date is None or cycle.cycle_number is None:
        return
    if enrolment is None or not enrolment.route.is_treatment:
        raise ValidationError({NON_FIELD: "Only patients enrolled on a treatment route have cycles."})
    if cycle.cycle_number == 1 and enrolment.first_dose_date and cycle.start_date != enrolment.first_dose_date:
        raise ValidationError(
            {"start_date": f"Cycle 1 starts on the first dose date ({enrolment.first_dose_date:%d %b %Y})."}
        )
    check_order(enrolment.enrolment_date, cycle.start_date, "start_date", "The cycle starts before enrolment.")
    _check_spacing(cycle, siblings)
    if cycle.total_dose_miu is not None and cycle.planned_dose_miu is not None:
        maximum = cycle.planned_dose_miu * (cycle.days_administered or 0)
        if cycle.total_dose_miu > maximum:
            raise ValidationError(
                {
                    "total_dose_miu": f"{cycle.total_dose_miu} MIU exceeds {cycle.days_administered} days × "
                    f"{cycle.planned_dose_miu} MIU."
                }
            )
    if cycle.interrupted and not cycle.interruption_reason.strip():
        raise ValidationError({"interruption_reason": "Give the reason the cycle was interrupted."})


def cycle_findings(cycle: TreatmentCycle, *, today: dt.date) -> list[Finding]:
    """What a data manager should query about a cycle, without refusing it: doses missed with no
    interruption recorded once the dosing days are over (by `today`: the day of entry, or the
    data cut-off of an imported file). The record is kept; the finding becomes a query."""
    if cycle.start_date is None or cycle.days_administered is None:
        return []
    dosing_over = cycle.start_date + dt.timedelta(days=DOSING_DAYS_PER_CYCLE) <= today
    if dosing_over and cycle.doses_missed and not cycle.interrupted:
        return [
            Finding(
                rule=MISSED_DOSES_RULE,
                field="interrupted",
                message=(
                    f"{cycle.doses_missed} dose(s) missed and the cycle is not marked interrupted: give the reason."
                ),
            )
        ]
    return []


MISSED_DOSES_RULE = "cycle_missed_doses"
