"""events.csv: deaths first (pass 1, a death bounds every other record), then every other event (pass 2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from interchange import rif
from interchange.loaders.core import Existing, RecordLoader, Row, optional
from interchange.validation import validate
from registry.models import ClinicalEvent, ClinicalRecord, Patient, death_errors, latest_record_dates
from registry.services import outcomes_bulk_record, records_bulk_update


class EventLoader(RecordLoader):
    spec = rif.EVENTS
    model = ClinicalEvent
    compare_fields = ("detail",)
    validated_fields = ("event_type", "event_date", "detail")

    def key_fields(self) -> tuple[str, ...]:
        return ("patient_id", "event_type", "event_date")

    def lookup_key(self, patient: Patient, row: Row) -> tuple[Any, ...]:
        return (patient.pk, row.values["event_type"], row.values["event_date"])

    def desired(self, row: Row, patient: Patient) -> dict[str, Any]:
        present, detail = optional(row, "detail", self.present, "")
        return {"detail": detail} if present else {}

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        return self.build(
            patient,
            {"event_type": row.values["event_type"], "event_date": row.values["event_date"], **values},
        )

    def write(self, new: list[ClinicalRecord], changed: list[ClinicalRecord]) -> None:
        """New events through `outcomes_bulk_record`, which does what `outcome_record` does after
        a death, withdrawal or loss to follow-up. The type is part of the key, so a changed event
        changes only its detail and never ends follow-up."""
        outcomes_bulk_record(actor=self.ctx.user, events=cast("list[ClinicalEvent]", new), reason=self.reason)
        records_bulk_update(
            actor=self.ctx.user, records=changed, model=self.model, fields=self.compare_fields, reason=self.reason
        )


class DeathLoader(EventLoader):
    """Deaths are loaded before anything else, as every other record must not follow one."""

    def prepare_chunk(self, rows: Sequence[Row], patients: dict[str, Patient]) -> None:
        self.latest = latest_record_dates([p.pk for p in patients.values()])
        self.accepted_deaths: dict[int, dt.date] = {}

    def check(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        """`ClinicalEvent.clean()` for a death, its queries answered from the chunk."""
        assert isinstance(obj, ClinicalEvent)
        validate(obj, self.fields, clean=False)
        recorded = self.deaths.get(patient.pk)
        other = recorded[0] if recorded and recorded[1] != obj.pk else self.accepted_deaths.get(patient.pk)
        death_errors(
            obj.event_date,
            other_death=other,
            latest_record=self.latest.get(patient.pk),
        )
        ClinicalRecord.clean(obj)  # every record's rules; the patient's death is bound (no query)

    def accepted(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        self.accepted_deaths[patient.pk] = obj.event_date  # type: ignore[attr-defined]
