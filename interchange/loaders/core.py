"""The row-validation core every loader shares: match rows to records by natural key, validate, write in bulk.

A loader handles one chunk of parsed rows inside one transaction:

1. load what the chunk refers to, in a few queries (its patients with their diagnosis,
   enrolment and any death; the existing records with the same natural keys; siblings the
   cross-row rules need);
2. classify each row: unchanged (skipped: no write, no history), changed, or new;
3. lock the records to change and check their version has not moved since step 1 (the
   optimistic check `audited_save` makes with `expected_version`);
4. validate each new or changed record with the model's rules (see `validation`; the rules
   that read other rows are given those rows from step 1), rejecting the row with a message
   naming the file's columns;
5. write the accepted records in bulk with their history rows (reason "import <file>").

A rejected row never stops the chunk: the patient keeps the rows that were good.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction

from access_programme.models import Enrolment, Product, Route
from interchange import rif
from interchange.report import FileCounts, ImportReport
from interchange.validation import (
    bind_known_death,
    bind_known_withdrawal,
    describe,
    loaded_instance,
    model_fields,
    new_instance,
    set_cached_relation,
    validate,
)
from registry import signing
from registry.models import (
    ClinicalEvent,
    ClinicalRecord,
    Diagnosis,
    EventType,
    Patient,
    Site,
    User,
    collection_withdrawals,
    same_day,
    treatment_withdrawals,
)
from registry.services import records_bulk_insert, records_bulk_update

T = TypeVar("T")


def import_reason(file_name: str) -> str:
    return f"import {file_name}"


class Row:
    """One parsed data row: its line, its values by column, and its natural key as written."""

    __slots__ = ("_key", "cells", "line", "values")

    def __init__(self, line: int, values: dict[str, Any], cells: list[str], key_positions: Sequence[int | None]):
        self.line, self.values, self.cells, self._key = line, values, cells, key_positions

    @property
    def patient_id(self) -> str:
        return self.values["patient_id"]

    @property
    def key_text(self) -> str:
        cells = self.cells
        return " / ".join(cells[p] if p is not None and p < len(cells) else "" for p in self._key)


class RowRejected(Exception):
    def __init__(self, message: str, columns: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.columns = list(columns)


@dataclass
class ImportContext:
    """What the loaders share across files and chunks (small: no per-row state)."""

    report: ImportReport
    user: User | None
    present: dict[str, set[str]] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    rejected_patients: dict[str, int] = field(default_factory=dict)
    rejected_cycles: dict[tuple[str, int], int] = field(default_factory=dict)
    patients_file_error: str | None = None
    #: Other worker processes import other patients at the same time (see `parallel`).
    parallel: bool = False
    #: The file's data cut-off (its manifest): the "today" of the rules. None: the import's day.
    data_cutoff: dt.date | None = None

    @classmethod
    def load(cls, report: ImportReport, user: User | None, data_cutoff: dt.date | None = None) -> ImportContext:
        return cls(
            report=report,
            user=user,
            data_cutoff=data_cutoff,
            sites={site.code: site for site in Site.objects.all()},
            routes={route.code: route for route in Route.objects.all()},
            products={product.code: product for product in Product.objects.select_related("route")},
        )


class Existing:
    """A record already in the registry under a row's natural key: its id, version and the
    values the import compares (a row of a `values_list` query, read through a shared index)."""

    __slots__ = ("index", "pk", "row", "version")

    def __init__(self, pk: int, version: int, row: tuple[Any, ...], index: dict[str, int]) -> None:
        self.pk, self.version, self.row, self.index = pk, version, row, index

    def get(self, name: str) -> Any:
        return self.row[self.index[name]]


def cached_enrolment(patient: Patient) -> Enrolment | None:
    try:
        return patient.enrolment
    except Enrolment.DoesNotExist:
        return None


def cached_onset(patient: Patient) -> dt.date | None:
    try:
        return patient.diagnosis.symptom_onset_date
    except Diagnosis.DoesNotExist:
        return None


class Loader:
    """Shared machinery; subclasses say how rows map to records."""

    spec: ClassVar[rif.FileSpec]
    #: Model field -> file column, so messages name what the data manager sees.
    columns: ClassVar[dict[str, str]] = {}

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.file = self.spec.name
        self.reason = import_reason(self.file)
        self.present = ctx.present.get(self.file, set(self.spec.column_names))
        self.counts: FileCounts = ctx.report.counts(self.file)

    # -- reporting ----------------------------------------------------------------------
    def reject(self, row: Row, message: str, columns: Iterable[str] = ()) -> None:
        self.ctx.report.reject(self.file, row.line, row.key_text, message, columns)
        self.on_reject(row)

    def reject_invalid(self, row: Row, error: ValidationError, columns: dict[str, str] | None = None) -> None:
        message, named = describe(error, columns if columns is not None else self.columns)
        self.reject(row, message, named)

    def on_reject(self, row: Row) -> None:
        """Hook: remember a rejected row that later files depend on."""

    def on_unreadable(self, line: int, raw: dict[str, str]) -> None:
        """Hook: the same for a row whose cells could not be read (raw text by column)."""

    # -- patients -----------------------------------------------------------------------
    #: What the rows' rules read from the patient besides its id, death and withdrawal:
    #: "diagnosis" (the symptom onset) and/or "enrolment" (route and dates). Only that is
    #: loaded, per chunk. A record that must not precede symptom onset
    #: (`ClinicalRecord.follows_symptom_onset`, every loader's model) needs the diagnosis.
    patient_needs: ClassVar[frozenset[str]] = frozenset({"diagnosis"})

    def load_patients(self, rows: Sequence[Row]) -> dict[str, Patient]:
        """The chunk's patients with what the models' rules read (onset, enrolment, death).

        One query; the records are built like `.only()` builds them (fields not loaded are
        deferred, so reading one would query rather than give a wrong value), but without
        Django's per-row machinery, which costs more than the rules themselves.
        """
        study_ids = {row.patient_id for row in rows} - set(self.ctx.rejected_patients)
        patient_fields = ("id", "study_id", "year_of_birth", "site_id", "version")
        names = list(patient_fields)
        if "diagnosis" in self.patient_needs:
            names += ["diagnosis__id", "diagnosis__symptom_onset_date"]
        if "enrolment" in self.patient_needs:
            names += ["enrolment__id", "enrolment__route_id", "enrolment__enrolment_date", "enrolment__first_dose_date"]
        routes = {route.pk: route for route in self.ctx.routes.values()}
        patients: dict[str, Patient] = {}
        for values in Patient.objects.filter(study_id__any_of=study_ids).values_list(*names):
            patient = loaded_instance(Patient, dict(zip(patient_fields, values[:5], strict=True)))
            position = 5
            if "diagnosis" in self.patient_needs:
                pk, onset = values[position : position + 2]
                position += 2
                diagnosis = None
                if pk is not None:
                    diagnosis = loaded_instance(
                        Diagnosis, {"id": pk, "patient_id": patient.pk, "symptom_onset_date": onset}, patient=patient
                    )
                set_cached_relation(patient, "diagnosis", diagnosis)
            if "enrolment" in self.patient_needs:
                pk, route_id, enrolled, first_dose = values[position : position + 4]
                enrolment = None
                if pk is not None:
                    enrolment = loaded_instance(
                        Enrolment,
                        {
                            "id": pk,
                            "patient_id": patient.pk,
                            "route_id": route_id,
                            "enrolment_date": enrolled,
                            "first_dose_date": first_dose,
                        },
                        patient=patient,
                        route=routes[route_id],
                    )
                set_cached_relation(patient, "enrolment", enrolment)
            patients[patient.study_id] = patient
        deaths = {
            patient_id: (date, pk)
            for patient_id, date, pk in ClinicalEvent.objects.filter(
                patient_id__any_of=[p.pk for p in patients.values()], event_type=EventType.DEATH
            ).values_list("patient_id", "event_date", "pk")
        }
        withdrawals = collection_withdrawals([p.pk for p in patients.values()])
        treatment_stops = treatment_withdrawals([p.pk for p in patients.values()])
        for patient in patients.values():
            bind_known_death(patient, deaths.get(patient.pk))
            bind_known_withdrawal(patient, withdrawals.get(patient.pk), treatment_stops.get(patient.pk))
        self.deaths = deaths
        return patients

    def patient_for(self, row: Row, patients: dict[str, Patient]) -> Patient:
        study_id = row.patient_id
        if study_id in self.ctx.rejected_patients:
            line = self.ctx.rejected_patients[study_id]
            raise RowRejected(
                f"patient {study_id} was rejected in patients.csv (line {line}), so this row was not imported; "
                "correct the patient's row and import again.",
                ["patient_id"],
            )
        patient = patients.get(study_id)
        if patient is None:
            if self.ctx.patients_file_error:
                raise RowRejected(
                    f"patient {study_id} is unknown: not in the registry, and patients.csv could not be imported "
                    f"({self.ctx.patients_file_error}).",
                    ["patient_id"],
                )
            raise RowRejected(
                f"patient {study_id} is unknown: not in patients.csv and not in the registry.", ["patient_id"]
            )
        return patient

    def process(self, rows: Sequence[Row]) -> None:
        raise NotImplementedError


class RecordLoader(Loader):
    """A file whose rows each map to one record of `model` belonging to a patient."""

    model: ClassVar[type[ClinicalRecord]]
    #: Model fields compared to decide whether a row changes its record.
    compare_fields: ClassVar[tuple[str, ...]]
    #: Model fields whose values come from the file, checked with the field validators.
    validated_fields: ClassVar[tuple[str, ...]]

    def lookup_key(self, patient: Patient, row: Row) -> tuple[Any, ...]:
        raise NotImplementedError

    def existing_filter(self, patients: Iterable[Patient]) -> models.QuerySet:
        # Every loader's model has a patient; the ClinicalRecord base does not.
        return self.model._default_manager.filter(**{"patient_id__any_of": [p.pk for p in patients]})

    def desired(self, row: Row, patient: Patient) -> dict[str, Any]:
        """The record's field values the row asks for (only the columns the file has)."""
        raise NotImplementedError

    def __init__(self, ctx: ImportContext) -> None:
        super().__init__(ctx)
        self.fields = model_fields(self.model, self.validated_fields)

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        return self.build(patient, values)

    def build(self, patient: Patient, values: dict[str, Any], **related: Any) -> ClinicalRecord:
        return new_instance(self.model, {"patient_id": patient.pk, **values}, {"patient": patient, **related})

    def check(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        validate(obj, self.fields)

    def accepted(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        """Hook: remember an accepted record for the rules of later rows in the chunk."""

    def prepare_chunk(self, rows: Sequence[Row], patients: dict[str, Patient]) -> None:
        """Hook: load what the cross-row rules need for the chunk."""

    def write(self, new: list[ClinicalRecord], changed: list[ClinicalRecord]) -> None:
        records_bulk_insert(actor=self.ctx.user, records=new, model=self.model, reason=self.reason)
        records_bulk_update(
            actor=self.ctx.user, records=changed, model=self.model, fields=self.compare_fields, reason=self.reason
        )

    def load_existing(self, patients: dict[str, Patient]) -> dict[tuple[Any, ...], Existing]:
        """The chunk's patients' records, keyed like `lookup_key`, with the values compared."""
        if not patients:
            return {}
        keys = self.key_fields()
        names = ["pk", "version", *keys, *self.compare_fields]
        index = {name: position for position, name in enumerate(names)}
        end = 2 + len(keys)
        return {
            row[2:end]: Existing(row[0], row[1], row, index)
            for row in self.existing_filter(patients.values()).values_list(*names)
        }

    def key_fields(self) -> tuple[str, ...]:
        """Database fields of the natural key, in the order of `lookup_key`."""
        raise NotImplementedError

    @staticmethod
    def same(existing: Existing, desired: dict[str, Any]) -> bool:
        row, index = existing.row, existing.index
        return all(row[index[name]] == value for name, value in desired.items())

    def exclusive(self) -> None:
        """Hook: take the locks a chunk needs before it reads shared state (see `parallel`).

        Taken after the chunk has loaded its patients and their records, which only this
        worker writes (each patient belongs to one worker), so that part runs unlocked."""

    def process(self, rows: Sequence[Row]) -> None:
        with same_day(self.ctx.data_cutoff), transaction.atomic():
            patients = self.load_patients(rows)
            existing = self.load_existing(patients)
            self.exclusive()
            self.prepare_chunk(rows, patients)
            pending: list[tuple[Row, Patient, dict[str, Any], Existing | None]] = []
            for row in rows:
                found = self.attempted(row, partial(self.matched, row, patients, existing))
                if found is None:
                    continue
                patient, desired, entry = found
                if entry is not None and self.same(entry, desired):
                    self.counts.unchanged += 1
                    continue
                pending.append((row, patient, desired, entry))

            pending = self._unlocked(pending)
            to_change = [entry.pk for _, _, _, entry in pending if entry is not None]
            locked = self.lock(to_change)
            new: list[ClinicalRecord] = []
            changed: list[ClinicalRecord] = []
            for row, patient, desired, entry in pending:
                obj = self.attempted(row, partial(self.checked, row, patient, desired, entry, locked))
                if obj is None:
                    continue
                self.accepted(obj, row, patient, entry)
                (new if entry is None else changed).append(obj)
            self.write(new, changed)
            self.counts.created += len(new)
            self.counts.updated += len(changed)

    def _unlocked(
        self, pending: list[tuple[Row, Patient, dict[str, Any], Existing | None]]
    ) -> list[tuple[Row, Patient, dict[str, Any], Existing | None]]:
        """Rows for a signed casebook or a signed record are refused, as the services refuse them."""
        if not pending or not signing.locks(self.model):
            return pending
        casebooks = signing.signed_casebooks([patient.pk for _, patient, _, _ in pending])
        records = signing.signed_records(self.model, [entry.pk for _, _, _, entry in pending if entry is not None])
        kept = []
        for item in pending:
            row, patient, _, entry = item
            if patient.pk in casebooks or (entry is not None and entry.pk in records):
                self.reject(row, signing.LOCKED_ROW, ["patient_id"])
            else:
                kept.append(item)
        return kept

    def attempted(self, row: Row, step: Callable[[], T]) -> T | None:
        """One step of a row's checks; a refusal rejects the row with its message (None)."""
        try:
            return step()
        except RowRejected as rejected:
            self.reject(row, rejected.message, rejected.columns)
        except ValidationError as error:
            self.reject_invalid(row, error)
        return None

    def matched(
        self, row: Row, patients: dict[str, Patient], existing: dict[tuple[Any, ...], Existing]
    ) -> tuple[Patient, dict[str, Any], Existing | None]:
        """The row's patient, the values it asks for, and the record it names if there is one."""
        patient = self.patient_for(row, patients)
        desired = self.desired(row, patient)
        return patient, desired, existing.get(self.lookup_key(patient, row))

    def checked(
        self,
        row: Row,
        patient: Patient,
        desired: dict[str, Any],
        entry: Existing | None,
        locked: dict[int, ClinicalRecord],
    ) -> ClinicalRecord:
        """The new or changed record, its version unchanged since the chunk read it, past its rules."""
        if entry is None:
            obj = self.new_object(patient, row, desired)
        else:
            found = locked.get(entry.pk)
            if found is None or found.version != entry.version:
                raise RowRejected(
                    "this record was changed by someone else while the import was running; "
                    "import the file again to apply this row."
                )
            obj = found
            obj.patient = patient  # type: ignore[attr-defined]
            for name, value in desired.items():
                setattr(obj, name, value)
        self.check(obj, row, patient, entry)
        return obj

    def lock(self, pks: list[int]) -> dict[int, ClinicalRecord]:
        if not pks:
            return {}
        return {obj.pk: obj for obj in self.model._default_manager.select_for_update().filter(pk__in=pks)}


def optional(row: Row, column: str, present: set[str], default: Any = None) -> tuple[bool, Any]:
    """(column in the file, its value or default when empty)."""
    if column not in present:
        return False, default
    value = row.values.get(column)
    return True, default if value is None else value
