"""adverse_events.csv: adverse events; a serious one raises the SAE alert as on every path."""

from __future__ import annotations

from typing import Any, ClassVar

from interchange import rif
from interchange.loaders.core import RecordLoader, Row, optional
from registry.models import (
    SERIOUSNESS_CRITERIA,
    SERIOUSNESS_CRITERION_FIELDS,
    AdverseEvent,
    ClinicalRecord,
    Patient,
    same_day,
)
from registry.services import sae_alerts_raise


class AdverseEventLoader(RecordLoader):
    spec = rif.ADVERSE_EVENTS
    model = AdverseEvent
    compare_fields = AdverseEvent.FOLLOW_UP_FIELDS
    validated_fields = (*AdverseEvent.KEY_FIELDS, *compare_fields)
    columns: ClassVar[dict[str, str]] = dict.fromkeys(SERIOUSNESS_CRITERION_FIELDS, "seriousness_criteria")

    def key_fields(self) -> tuple[str, ...]:
        return ("patient_id", "term", "onset_date")

    def lookup_key(self, patient: Patient, row: Row) -> tuple[Any, ...]:
        return (patient.pk, row.values["term"], row.values["onset_date"])

    def desired(self, row: Row, patient: Patient) -> dict[str, Any]:
        values = row.values
        desired: dict[str, Any] = {
            "ctcae_grade": values["ctcae_grade"],
            "serious": values["serious"],
            "relatedness": values["relatedness"],
        }
        for column, default in (
            ("resolution_date", None),
            ("outcome", "unknown"),
            ("action_taken", "unknown"),
            ("meddra_llt_code", ""),
        ):
            present, value = optional(row, column, self.present, default)
            if present:
                desired[column] = value
        present, criteria = optional(row, "seriousness_criteria", self.present, [])
        if present:
            desired.update(
                {
                    field: name in criteria
                    for name, field in zip(SERIOUSNESS_CRITERIA, SERIOUSNESS_CRITERION_FIELDS, strict=True)
                }
            )
        return desired

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        defaults = {"outcome": "unknown", "action_taken": "unknown"}
        return self.build(
            patient, {"term": row.values["term"], "onset_date": row.values["onset_date"], **defaults, **values}
        )

    def write(self, new: list[ClinicalRecord], changed: list[ClinicalRecord]) -> None:
        """Write, then flag every serious event as the web, API and admin do (`sae_alerts_raise`).

        The alert and the safety case are the registry's own records, made now: they are judged
        on today, not on the file's data cut-off (which judges the file's records)."""
        super().write(new, changed)
        with same_day():
            sae_alerts_raise(actor=self.ctx.user, adverse_events=[*new, *changed])  # type: ignore[list-item]
