"""cycles.csv: treatment cycles; missed doses raise a data query, they do not reject the cycle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from access_programme.models import CycleStart, TreatmentCycle, cycle_errors, cycle_findings
from access_programme.next_due import next_due_refresh
from interchange import rif
from interchange.loaders.core import Existing, RecordLoader, Row, cached_enrolment, optional
from interchange.validation import validate
from registry.constants import PROTOCOL_DAILY_DOSE_MIU
from registry.models import ClinicalRecord, Patient, rules_today
from registry.services import data_queries_raise


class CycleLoader(RecordLoader):
    spec = rif.CYCLES
    model = TreatmentCycle
    patient_needs = frozenset({"diagnosis", "enrolment"})
    compare_fields = TreatmentCycle.DOSING_FIELDS
    validated_fields = ("cycle_number", *compare_fields)

    def key_fields(self) -> tuple[str, ...]:
        return ("patient_id", "cycle_number")

    def lookup_key(self, patient: Patient, row: Row) -> tuple[Any, ...]:
        return (patient.pk, row.values["cycle_number"])

    def on_reject(self, row: Row) -> None:
        number = row.values.get("cycle_number")
        if row.values.get("patient_id") and number is not None:
            self.ctx.rejected_cycles.setdefault((row.patient_id, number), row.line)

    def on_unreadable(self, line: int, raw: dict[str, str]) -> None:
        number = raw.get("cycle_number", "")
        if raw.get("patient_id") and number.isascii() and number.isdigit():
            self.ctx.rejected_cycles.setdefault((raw["patient_id"], int(number)), line)

    def desired(self, row: Row, patient: Patient) -> dict[str, Any]:
        values = row.values
        desired: dict[str, Any] = {"start_date": values["start_date"], "days_administered": values["days_administered"]}
        present, planned = optional(row, "planned_dose_miu", self.present, PROTOCOL_DAILY_DOSE_MIU)
        if present:
            desired["planned_dose_miu"] = planned
        present, total = optional(row, "total_dose_miu", self.present)
        if present:
            # An empty total is the protocol arithmetic, as `cycle_start` fills it in.
            days = values["days_administered"]
            desired["total_dose_miu"] = (
                total if total is not None else (planned or PROTOCOL_DAILY_DOSE_MIU) * Decimal(days or 0)
            )
        for column, default in (("interrupted", False), ("interruption_reason", "")):
            present, value = optional(row, column, self.present, default)
            if present:
                desired[column] = value
        return desired

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        values = dict(values)
        values.setdefault("planned_dose_miu", PROTOCOL_DAILY_DOSE_MIU)
        values.setdefault("total_dose_miu", values["planned_dose_miu"] * Decimal(values["days_administered"] or 0))
        return self.build(patient, {"cycle_number": row.values["cycle_number"], **values})

    def prepare_chunk(self, rows: Sequence[Row], patients: dict[str, Patient]) -> None:
        # Each patient's cycles as `cycle_errors` reads them: in the registry, then accepted.
        self.siblings: dict[int, list[CycleStart]] = defaultdict(list)
        for patient_id, number, start, pk in TreatmentCycle.objects.filter(
            patient_id__any_of=[p.pk for p in patients.values()]
        ).values_list("patient_id", "cycle_number", "start_date", "pk"):
            self.siblings[patient_id].append((number, start, pk))

    def check(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        """`TreatmentCycle.clean()`, its queries answered from the chunk."""
        assert isinstance(obj, TreatmentCycle)
        validate(obj, self.fields, clean=False)
        ClinicalRecord.clean(obj)
        cycle_errors(obj, enrolment=cached_enrolment(patient), siblings=self.siblings[patient.pk])

    def accepted(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        assert isinstance(obj, TreatmentCycle)
        siblings = self.siblings[patient.pk]
        if existing is not None:
            siblings[:] = [s for s in siblings if s[2] != existing.pk]
        siblings.append((obj.cycle_number, obj.start_date, existing.pk if existing else None))

    def write(self, new: list[ClinicalRecord], changed: list[ClinicalRecord]) -> None:
        """Write, then raise the queries `cycle_start` raises: doses missed with no interruption."""
        super().write(new, changed)
        today = rules_today()
        cycles = cast(list[TreatmentCycle], [*new, *changed])  # this loader's records are cycles
        findings = [(cycle, cycle_findings(cycle, today=today)) for cycle in cycles]
        data_queries_raise(actor=self.ctx.user, findings=findings)
        next_due_refresh({cycle.patient_id for cycle in cycles})  # as cycle_start does
