"""biomarkers.csv: biomarker results, converted to the canonical unit by the model's rule."""

from __future__ import annotations

from typing import Any, ClassVar

from interchange import rif
from interchange.loaders.core import Existing, RecordLoader, Row
from registry.models import BiomarkerResult, ClinicalRecord, Patient, canonical_biomarker_value


class BiomarkerLoader(RecordLoader):
    spec = rif.BIOMARKERS
    model = BiomarkerResult
    compare_fields = ("value", "unit", "reported_value", "reported_unit", "assay")
    validated_fields = ("sample_date", "analyte", "value", "reported_value", "reported_unit", "assay")
    columns: ClassVar[dict[str, str]] = {"reported_value": "value", "reported_unit": "unit"}

    def key_fields(self) -> tuple[str, ...]:
        return ("patient_id", "sample_date", "analyte")

    def lookup_key(self, patient: Patient, row: Row) -> tuple[Any, ...]:
        return (patient.pk, row.values["sample_date"], row.values["analyte"])

    def desired(self, row: Row, patient: Patient) -> dict[str, Any]:
        values = row.values
        # The model's conversion: canonical unit, original value kept.
        canonical, unit = canonical_biomarker_value(values["analyte"], values["value"], values["unit"])
        return {
            "value": canonical,
            "unit": unit,
            "reported_value": values["value"],
            "reported_unit": values["unit"],
            "assay": values["assay"],
        }

    @staticmethod
    def same(existing: Existing, desired: dict[str, Any]) -> bool:
        values = {name: existing.get(name) for name in desired}
        if values["reported_value"] is None and not values["reported_unit"]:  # entered before units were kept
            values["reported_value"], values["reported_unit"] = existing.get("value"), existing.get("unit")
        return all(values[name] == value for name, value in desired.items())

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        key = {"sample_date": row.values["sample_date"], "analyte": row.values["analyte"]}
        return self.build(patient, {**key, **values})
