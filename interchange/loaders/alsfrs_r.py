"""alsfrs_r.csv: ALSFRS-R assessments, their scores derived as the model derives them."""

from __future__ import annotations

from typing import Any, cast

from interchange import rif
from interchange.loaders.core import Existing, RecordLoader, Row, cached_onset
from interchange.validation import validate
from registry.models import AlsfrsrAssessment, ClinicalRecord, Patient
from registry.services import alsfrsr_bulk_record, records_bulk_update


class AlsfrsrLoader(RecordLoader):
    spec = rif.ALSFRS_R
    model = AlsfrsrAssessment
    compare_fields = rif.ITEM_COLUMNS
    validated_fields = ("assessment_date", *rif.ITEM_COLUMNS)

    def key_fields(self) -> tuple[str, ...]:
        return ("patient_id", "assessment_date")

    def lookup_key(self, patient: Patient, row: Row) -> tuple[Any, ...]:
        return (patient.pk, row.values["assessment_date"])

    def desired(self, row: Row, patient: Patient) -> dict[str, Any]:
        values = row.values
        return {name: values[name] for name in rif.ITEM_COLUMNS}

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        return self.build(patient, {"assessment_date": row.values["assessment_date"], **values})

    def check(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        validate(obj, self.fields)
        obj.derive_scores(cached_onset(patient))  # type: ignore[attr-defined]

    def write(self, new: list[ClinicalRecord], changed: list[ClinicalRecord]) -> None:
        """New assessments through `alsfrsr_bulk_record`, which moves the next one's due date as
        `alsfrsr_record` does. The date is part of the key, so a changed row keeps its date."""
        alsfrsr_bulk_record(actor=self.ctx.user, assessments=cast("list[AlsfrsrAssessment]", new), reason=self.reason)
        fields = (*self.compare_fields, *AlsfrsrAssessment.DERIVED_FIELDS)
        records_bulk_update(actor=self.ctx.user, records=changed, model=self.model, fields=fields, reason=self.reason)
