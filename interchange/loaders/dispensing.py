"""dispensing.csv: dispensings, creating any batch the registry does not know yet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import connection

from access_programme.models import (
    Batch,
    Dispensing,
    Prescription,
    TreatmentCycle,
    dispensing_errors,
    prescription_finding,
    prescription_lack,
    window_errors,
)
from access_programme.recipients import recipients_move
from interchange import rif
from interchange.loaders.core import Existing, ImportContext, RecordLoader, Row, RowRejected, cached_enrolment
from interchange.validation import describe, validate
from registry.models import ClinicalRecord, DataQuery, Finding, Patient
from registry.services import data_queries_raise, data_query_restate, records_bulk_insert, records_bulk_update

DISPENSING_LOCK = 0x52494644  # "RIFD": the advisory lock of dispensing chunks in a parallel import


@dataclass
class _BatchState:
    batch: Batch
    stock_known: bool
    is_new: bool = False
    touched: bool = False


class DispensingLoader(RecordLoader):
    """Dispensings, creating any batch the registry does not know yet (see docs/interchange.md)."""

    spec = rif.DISPENSING
    model = Dispensing
    patient_needs = frozenset({"diagnosis", "enrolment"})
    compare_fields = ("cycle_id", "quantity", "quantity_unit", "dose_miu_per_unit", "prescriber", "dispensed_by")
    validated_fields = ("dispensed_on", "quantity", "quantity_unit", "dose_miu_per_unit", "prescriber", "dispensed_by")
    columns: ClassVar[dict[str, str]] = {
        "batch": "batch_number",
        "cycle": "cycle_number",
        "cycle_id": "cycle_number",
        "expiry_date": "batch_expiry",
    }

    def __init__(self, ctx: ImportContext) -> None:
        super().__init__(ctx)
        self.created_batches = 0
        # Supplies kept without a checked prescription, by patient: what each cycle's prescription
        # lacks and the earliest supply (this chunk), and the query raised for them (this import).
        self.lacks: dict[int, dict[int, str]] = {}
        self.earliest: dict[int, tuple[dt.date, int, Dispensing]] = {}
        # Kept as (id, message, cycles' lacks), not the query itself: one per patient queried
        # in the file, so a model instance each would grow the import's memory with the cohort.
        self.queried: dict[int, tuple[int, str, dict[int, str]]] = {}

    def key_fields(self) -> tuple[str, ...]:
        return ("patient_id", "dispensed_on", "batch__product__code", "batch__batch_number")

    def lookup_key(self, patient: Patient, row: Row) -> tuple[Any, ...]:
        values = row.values
        return (patient.pk, values["dispensed_on"], values["product"], values["batch_number"])

    def exclusive(self) -> None:
        """Batches and their stock are shared by every patient: with parallel workers, one
        dispensing chunk at a time (a transaction-level advisory lock, released at commit), so
        each sees the batches and stock the previous one wrote, and no batch is created twice."""
        if self.ctx.parallel:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DISPENSING_LOCK])

    def prepare_chunk(self, rows: Sequence[Row], patients: dict[str, Patient]) -> None:
        patient_ids = [p.pk for p in patients.values()]
        self.cycles = {
            (patient_id, number): (pk, patient_id, start)
            for patient_id, number, pk, start in TreatmentCycle.objects.filter(
                patient_id__any_of=patient_ids
            ).values_list("patient_id", "cycle_number", "pk", "start_date")
        }
        # The cycles' prescriptions: a supply is linked to its cycle's, or queried without one.
        self.prescriptions = {
            (p.patient_id, p.cycle_number): p for p in Prescription.objects.filter(patient_id__any_of=patient_ids)
        }
        numbers = {row.values["batch_number"] for row in rows}
        batches = list(
            Batch.objects.select_for_update(of=("self",))
            .select_related("product__route")
            .filter(batch_number__in=numbers)
            .order_by("pk")
        )
        imported = set(
            Batch.history.filter(
                id__in=[b.pk for b in batches], history_type="+", history_change_reason__startswith="import "
            ).values_list("id", flat=True)
        )
        self.batches = {
            (b.product.code, b.batch_number): _BatchState(b, stock_known=b.pk not in imported) for b in batches
        }

    def desired(self, row: Row, patient: Patient) -> dict[str, Any]:
        values = row.values
        number = values["cycle_number"]
        cycle = self.cycles.get((patient.pk, number))
        if cycle is None:
            line = self.ctx.rejected_cycles.get((patient.study_id, number))
            if line is not None:
                raise RowRejected(
                    f"cycle_number: cycle {number} of patient {patient.study_id} was rejected in cycles.csv "
                    f"(line {line}), so its dispensing was not imported.",
                    ["cycle_number"],
                )
            raise RowRejected(
                f"cycle_number: cycle {number} is not recorded for patient {patient.study_id} "
                "(it must be in cycles.csv or already in the registry).",
                ["cycle_number"],
            )
        self._batch_for(row)  # the batch must match before anything is compared
        return {
            "cycle_id": cycle[0],
            "quantity": values["quantity"],
            "quantity_unit": values["quantity_unit"],
            "dose_miu_per_unit": values["dose_miu_per_unit"],
            "prescriber": values["prescriber"],
            "dispensed_by": values["dispensed_by"],
        }

    def _batch_for(self, row: Row) -> _BatchState:
        values = row.values
        product = self.ctx.products[values["product"]]
        state = self.batches.get((product.code, values["batch_number"]))
        if state is None:
            batch = Batch(
                product=product,
                batch_number=values["batch_number"],
                expiry_date=values["batch_expiry"],
                supplier=values["supplier"],
                received_on=values["dispensed_on"],
                quantity_received=1,
                quantity_remaining=0,
                quantity_unit=values["quantity_unit"],
                dose_miu_per_unit=values["dose_miu_per_unit"],
            )
            try:
                validate(
                    batch,
                    ("batch_number", "expiry_date", "supplier", "quantity_unit", "dose_miu_per_unit"),
                    clean=False,
                )
                try:
                    batch.clean()
                except ValidationError as error:
                    # Fields RIF does not carry are waived (a warning asks for them). A row dispensed
                    # after the expiry fails the dispensing rule with the clearer "expired on" message;
                    # the batch is written only with an accepted row, received on or before expiry.
                    waived = rif.BATCH_FIELDS_NOT_IN_RIF | {"expiry_date"}
                    left = {k: v for k, v in error.message_dict.items() if k not in waived}
                    if left:
                        raise ValidationError(left) from error
            except ValidationError as error:
                message, named = describe(error, self.columns)
                raise RowRejected(f"batch {batch.batch_number} cannot be created: {message}", named) from error
            batch.quantity_received = 0
            state = _BatchState(batch, stock_known=False, is_new=True)
            self.batches[(product.code, batch.batch_number)] = state
            return state
        batch = state.batch
        if batch.expiry_date != values["batch_expiry"]:
            raise RowRejected(
                f"batch_expiry: batch {batch.batch_number} of {product.name} is recorded with expiry "
                f"{batch.expiry_date.isoformat()}, not {values['batch_expiry'].isoformat()}.",
                ["batch_expiry"],
            )
        if batch.supplier != values["supplier"]:
            raise RowRejected(
                f"supplier: batch {batch.batch_number} of {product.name} is recorded as supplied by "
                f"'{batch.supplier}', not '{values['supplier']}'.",
                ["supplier"],
            )
        return state

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        state = self._batch_for(row)
        prescription = self.prescriptions.get((patient.pk, row.values["cycle_number"]))
        return self.build(
            patient,
            {
                "dispensed_on": row.values["dispensed_on"],
                "batch_id": state.batch.pk,
                "prescription_id": prescription.pk if prescription is not None else None,
                **values,
            },
            batch=state.batch,
        )

    def check(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        """`Dispensing.clean()` without the point-of-supply rules RIF cannot carry
        (`rif.DISPENSING_FIELDS_NOT_IN_RIF`), its queries answered from the chunk. The dispensing
        window is applied; the prescription rule becomes a data query (`accepted`)."""
        assert isinstance(obj, Dispensing)
        state = self._batch_for(row)
        validate(obj, self.fields, clean=False)
        ClinicalRecord.clean(obj)
        _, cycle_patient_id, cycle_start = self.cycles[(patient.pk, row.values["cycle_number"])]
        errors = window_errors(obj.dispensed_on, cycle_start)
        errors |= dispensing_errors(
            obj,
            cycle_patient_id=cycle_patient_id,
            batch=state.batch,
            enrolment=cached_enrolment(patient),
            # The natural key holds the batch: an existing record took its quantity from this one.
            previous_quantity=existing.get("quantity") if existing is not None else None,
            stock_known=state.stock_known,
            treatment_withdrawn_on=patient.treatment_withdrawn_on(),
        )
        if errors:
            raise ValidationError(errors)

    def accepted(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        assert isinstance(obj, Dispensing)
        state = self._batch_for(row)
        batch = state.batch
        if existing is None:  # a past supply is kept; one without a checked prescription is queried
            number = row.values["cycle_number"]
            lack = prescription_lack(
                self.prescriptions.get((patient.pk, number)),
                patient_id=patient.pk,
                cycle_number=number,
                special=batch.product.is_unlicensed_special,
            )
            if lack is not None:
                self.lacks.setdefault(patient.pk, {})[number] = lack
                first = self.earliest.get(patient.pk)
                if first is None or (obj.dispensed_on, number) < first[:2]:
                    self.earliest[patient.pk] = (obj.dispensed_on, number, obj)
        delta = obj.quantity - (existing.get("quantity") if existing is not None else 0)
        if state.stock_known:
            batch.quantity_remaining -= delta
        else:  # the registry never held this stock: it records what was dispensed from it
            if batch.quantity_received == 0:
                batch.received_on = obj.dispensed_on
            batch.quantity_received += delta
            if obj.dispensed_on < batch.received_on:
                batch.received_on = obj.dispensed_on
        state.touched = True

    def write(self, new: list[ClinicalRecord], changed: list[ClinicalRecord]) -> None:
        # A changed supply keeps its batch (the natural key holds it): only new ones add recipients.
        recipients_move(added=[(obj.batch, obj.patient_id) for obj in new])  # type: ignore[attr-defined]
        created = [s.batch for s in self.batches.values() if s.is_new and s.touched]
        records_bulk_insert(actor=self.ctx.user, records=created, model=Batch, reason=self.reason)
        for batch in created:
            self.ctx.report.warn(
                self.file,
                f"batch {batch.batch_number} of {batch.product.name} was not in the registry: created from this "
                f"file (received on its first dispensing, {batch.received_on.isoformat()}; stock = what was "
                "dispensed)."
                + (
                    " Add its specials licence number and beyond-use limit in the pharmacy."
                    if batch.product.is_unlicensed_special
                    else ""
                ),
                key=batch.batch_number,
                columns="batch_number",
            )
        self.created_batches += len(created)
        for obj in new:
            obj.batch = obj.batch  # type: ignore[attr-defined]  # relink to the batch's new id
        records_bulk_insert(actor=self.ctx.user, records=new, model=Dispensing, reason=self.reason)
        records_bulk_update(
            actor=self.ctx.user, records=changed, model=Dispensing, fields=self.compare_fields, reason=self.reason
        )
        self.query_supplies_without_prescription()
        stock = [s.batch for s in self.batches.values() if s.touched and not s.is_new]
        records_bulk_update(
            actor=self.ctx.user,
            records=stock,
            model=Batch,
            fields=["quantity_remaining", "quantity_received", "received_on", "recipient_count"],
            reason=self.reason,
        )
        for state in self.batches.values():
            state.is_new = False
            state.touched = False

    def query_supplies_without_prescription(self) -> None:
        """One data query per patient and import for the supplies kept without a checked
        prescription, on the earliest of them, naming their cycles (docs/pharmacy.md): one
        question for the data manager, not one per supply. A patient whose rows fall into a later
        chunk too keeps the query the first chunk raised, restated with every cycle."""
        fresh: list[tuple[ClinicalRecord, list[Finding]]] = []
        for patient_id, lacks in self.lacks.items():
            if not self._restated(patient_id, lacks):
                finding = prescription_finding(lacks)
                if finding is not None:
                    fresh.append((self.earliest[patient_id][2], [finding]))
        for query in data_queries_raise(actor=self.ctx.user, findings=fresh):
            self.queried[query.patient_id] = (query.pk, query.message, dict(self.lacks[query.patient_id]))
        self.lacks, self.earliest = {}, {}

    def _restated(self, patient_id: int, lacks: dict[int, str]) -> bool:
        """Whether the query an earlier chunk of this import raised for the patient, still open,
        now names these cycles too."""
        earlier = self.queried.get(patient_id)
        if earlier is None:
            return False
        pk, message, known = earlier
        finding = prescription_finding(known | lacks)
        if finding is None or finding.message == message:
            return True
        restated = data_query_restate(  # it reads the query afresh, under a row lock
            actor=self.ctx.user, query=DataQuery(pk=pk), message=finding.message, reason=self.reason
        )
        if restated is None:
            return False
        self.queried[patient_id] = (restated.pk, restated.message, known | lacks)
        return True
