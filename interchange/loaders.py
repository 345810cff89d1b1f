"""One loader per RIF file: match rows to records by natural key, validate, write in bulk.

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
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction

from access_programme.eligibility import EligibilityInput, age_in_years, unmet_mirocals_criteria
from access_programme.models import (
    Batch,
    CycleStart,
    Dispensing,
    Enrolment,
    Product,
    Route,
    TreatmentCycle,
    cycle_errors,
    cycle_findings,
    dispensing_errors,
)
from interchange import rif, writing
from interchange.report import FileCounts, ImportReport
from interchange.validation import (
    bind_known_death,
    describe,
    loaded_instance,
    model_fields,
    new_instance,
    set_cached_relation,
    validate,
)
from registry.constants import PROTOCOL_DAILY_DOSE_MIU
from registry.models import (
    SERIOUSNESS_CRITERIA,
    SERIOUSNESS_CRITERION_FIELDS,
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    ClinicalRecord,
    Consent,
    Diagnosis,
    EventType,
    Patient,
    PatientIdentity,
    Site,
    User,
    canonical_biomarker_value,
    death_errors,
    latest_record_dates,
    rules_today,
    same_day,
)
from registry.services import data_queries_raise, sae_alerts_raise

CONSENT_FORM_VERSION = "not recorded"
DISPENSING_LOCK = 0x52494644  # "RIFD": the advisory lock of dispensing chunks in a parallel import

R = TypeVar("R", bound=ClinicalRecord)


def import_reason(file_name: str) -> str:
    return f"import {file_name}"


def eligibility_justification(file_name: str) -> str:
    return f"Imported from {file_name}: eligibility not assessed at source."


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

    @classmethod
    def load(cls, report: ImportReport, user: User | None) -> ImportContext:
        return cls(
            report=report,
            user=user,
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
    #: What the rows' rules read from the patient besides its id and death: "diagnosis" (the
    #: symptom onset) and/or "enrolment" (route and dates). Only that is loaded, per chunk.
    patient_needs: ClassVar[frozenset[str]] = frozenset()

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
        for patient in patients.values():
            bind_known_death(patient, deaths.get(patient.pk))
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
        writing.insert(new, self.model, reason=self.reason, user=self.ctx.user)
        writing.update(changed, self.model, self.compare_fields, reason=self.reason, user=self.ctx.user)

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
        """Hook: take the locks a chunk needs before it reads shared state (see `parallel`)."""

    def process(self, rows: Sequence[Row]) -> None:
        with same_day(), transaction.atomic():
            self.exclusive()
            patients = self.load_patients(rows)
            existing = self.load_existing(patients)
            self.prepare_chunk(rows, patients)
            pending: list[tuple[Row, Patient, dict[str, Any], Existing | None]] = []
            for row in rows:
                try:
                    patient = self.patient_for(row, patients)
                    desired = self.desired(row, patient)
                    entry = existing.get(self.lookup_key(patient, row))
                except RowRejected as rejected:
                    self.reject(row, rejected.message, rejected.columns)
                    continue
                except ValidationError as error:
                    self.reject_invalid(row, error)
                    continue
                if entry is not None and self.same(entry, desired):
                    self.counts.unchanged += 1
                    continue
                pending.append((row, patient, desired, entry))

            to_change = [entry.pk for _, _, _, entry in pending if entry is not None]
            locked = self.lock(to_change)
            new: list[ClinicalRecord] = []
            changed: list[ClinicalRecord] = []
            for row, patient, desired, entry in pending:
                try:
                    if entry is None:
                        obj = self.new_object(patient, row, desired)
                    else:
                        obj = locked.get(entry.pk)  # type: ignore[assignment]
                        if obj is None or obj.version != entry.version:
                            raise RowRejected(
                                "this record was changed by someone else while the import was running; "
                                "import the file again to apply this row."
                            )
                        obj.patient = patient  # type: ignore[attr-defined]
                        for name, value in desired.items():
                            setattr(obj, name, value)
                    self.check(obj, row, patient, entry)
                except RowRejected as rejected:
                    self.reject(row, rejected.message, rejected.columns)
                    continue
                except ValidationError as error:
                    self.reject_invalid(row, error)
                    continue
                self.accepted(obj, row, patient, entry)
                (new if entry is None else changed).append(obj)
            self.write(new, changed)
            self.counts.created += len(new)
            self.counts.updated += len(changed)

    def lock(self, pks: list[int]) -> dict[int, ClinicalRecord]:
        if not pks:
            return {}
        return {obj.pk: obj for obj in self.model._default_manager.select_for_update().filter(pk__in=pks)}


def _optional(row: Row, column: str, present: set[str], default: Any = None) -> tuple[bool, Any]:
    """(column in the file, its value or default when empty)."""
    if column not in present:
        return False, default
    value = row.values.get(column)
    return True, default if value is None else value


# --------------------------------------------------------------------------------------
# patients.csv
# --------------------------------------------------------------------------------------

_PATIENT_FIELDS = ("site_id", "sex", "year_of_birth")
_DIAGNOSIS_COLUMNS = {
    "symptom_onset_date": "symptom_onset_date",
    "diagnosis_date": "diagnosis_date",
    "onset_region": "onset_region",
    "el_escorial": "el_escorial",
    "riluzole_start_date": "riluzole_start_date",
    "svc_percent": "baseline_svc_percent",
    "fvc_percent": "baseline_fvc_percent",
    "weight_kg": "weight_kg",
    "c9orf72": "c9orf72",
    "ftd": "ftd",
}
_TEXT_CHOICE_FIELDS = {"c9orf72", "ftd"}


@dataclass
class _PatientPlan:
    row: Row
    patient: Patient
    is_new: bool
    diagnosis: Diagnosis | None = None
    enrolment: Enrolment | None = None
    consent: Consent | None = None
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_parts: set[str] = field(default_factory=set)
    versions: dict[str, tuple[type[ClinicalRecord], int, int]] = field(default_factory=dict)


class PatientLoader(Loader):
    """patients.csv: a Patient with its Diagnosis, Consent and Enrolment, all or nothing per row."""

    spec = rif.PATIENTS
    columns: ClassVar[dict[str, str]] = {
        "study_id": "patient_id",
        "site": "site_code",
        "site_id": "site_code",
        "consent_date": "enrolment_date",
        "route": "route",
        "route_id": "route",
        **_DIAGNOSIS_COLUMNS,
    }

    def __init__(self, ctx: ImportContext) -> None:
        super().__init__(ctx)
        self._provisional = 0
        self._checks = (
            ("patient", model_fields(Patient, ("study_id", "sex", "year_of_birth"))),
            ("diagnosis", model_fields(Diagnosis, tuple(_DIAGNOSIS_COLUMNS))),
            ("consent", model_fields(Consent, ("consent_date", "form_version"))),
            ("enrolment", model_fields(Enrolment, ("enrolment_date", "first_dose_date", "eligibility_justification"))),
        )

    def on_reject(self, row: Row) -> None:
        self.on_unreadable(row.line, {"patient_id": row.values.get("patient_id") or ""})

    def on_unreadable(self, line: int, raw: dict[str, str]) -> None:
        study_id = raw.get("patient_id")
        if study_id:
            self.ctx.rejected_patients.setdefault(study_id, line)

    def process(self, rows: Sequence[Row]) -> None:
        with same_day(), transaction.atomic():
            study_ids = [row.patient_id for row in rows]
            patients = {
                p.study_id: p
                for p in Patient.objects.filter(study_id__any_of=study_ids).select_related(
                    "diagnosis", "enrolment__route"
                )
            }
            deaths = dict(
                ClinicalEvent.objects.filter(
                    patient_id__any_of=[p.pk for p in patients.values()], event_type=EventType.DEATH
                ).values_list("patient_id", "event_date")
            )
            consents: dict[int, Consent] = {}
            consents_of = Consent.objects.filter(patient_id__any_of=[p.pk for p in patients.values()])
            for consent in consents_of.order_by("consent_date", "pk"):
                consents.setdefault(consent.patient_id, consent)

            plans: list[_PatientPlan] = []
            for row in rows:
                try:
                    plan = self._plan(row, patients.get(row.patient_id), consents, deaths)
                except RowRejected as rejected:
                    self.reject(row, rejected.message, rejected.columns)
                    continue
                if plan is None:
                    self.counts.unchanged += 1
                else:
                    plans.append(plan)

            self._check_versions(plans)
            self._add_eligibility(plans)
            accepted = []
            for plan in plans:
                if self._validate(plan):
                    accepted.append(plan)
            self._write(accepted)

    # -- planning -------------------------------------------------------------------------
    def _plan(
        self, row: Row, patient: Patient | None, consents: dict[int, Consent], deaths: dict[int, dt.date]
    ) -> _PatientPlan | None:
        values = row.values
        site = self.ctx.sites.get(values["site_code"])
        if site is None:
            known = ", ".join(sorted(self.ctx.sites)) or "none yet"
            raise RowRejected(
                f"site_code: '{values['site_code']}' is not a site of the registry (known sites: {known}).",
                ["site_code"],
            )
        route = self.ctx.routes[values["route"]]
        patient_values = {"site_id": site.pk, "sex": values["sex"], "year_of_birth": values["year_of_birth"]}
        diagnosis_values = {
            "symptom_onset_date": values["symptom_onset_date"],
            "diagnosis_date": values["diagnosis_date"],
            "onset_region": values["onset_region"],
            "el_escorial": values["el_escorial"],
        }
        for name, column in _DIAGNOSIS_COLUMNS.items():
            if name in diagnosis_values or column not in self.present:
                continue
            value = values.get(column)
            diagnosis_values[name] = ("" if value is None else value) if name in _TEXT_CHOICE_FIELDS else value
        enrolment_values: dict[str, Any] = {"route_id": route.pk, "enrolment_date": values["enrolment_date"]}
        if "first_dose_date" in self.present:
            enrolment_values["first_dose_date"] = values.get("first_dose_date")

        if patient is None:
            self._provisional -= 1
            # A provisional id lets the models' patient-dependent rules run before the patient
            # exists (Django skips them for an unsaved parent); it is never written.
            patient = new_instance(
                Patient, {"id": self._provisional, "study_id": values["patient_id"], **patient_values}, {"site": site}
            )
            assert patient is not None
            bind_known_death(patient, None)
            plan = _PatientPlan(row=row, patient=patient, is_new=True)
            plan.diagnosis = self._new(Diagnosis, patient, diagnosis_values)
            plan.enrolment = self._new(Enrolment, patient, enrolment_values, route=route)
            plan.consent = self._new_consent(patient, values["enrolment_date"])
            plan.new_parts = {"patient", "diagnosis", "enrolment", "consent"}
            set_cached_relation(patient, "diagnosis", plan.diagnosis)
            return plan

        plan = _PatientPlan(row=row, patient=patient, is_new=False)
        death = deaths.get(patient.pk)
        bind_known_death(patient, (death, None) if death else None)
        self._diff(plan, "patient", patient, patient_values)
        try:
            plan.diagnosis = patient.diagnosis
            self._diff(plan, "diagnosis", plan.diagnosis, diagnosis_values)
        except Diagnosis.DoesNotExist:
            plan.diagnosis = self._new(Diagnosis, patient, diagnosis_values)
            plan.new_parts.add("diagnosis")
            set_cached_relation(patient, "diagnosis", plan.diagnosis)
        enrolment = cached_enrolment(patient)
        old_enrolment_date = enrolment.enrolment_date if enrolment else None
        if enrolment is None:
            plan.enrolment = self._new(Enrolment, patient, enrolment_values, route=route)
            plan.new_parts.add("enrolment")
        else:
            plan.enrolment = enrolment
            self._diff(plan, "enrolment", enrolment, enrolment_values)
        plan.enrolment.route = route
        consent = consents.get(patient.pk)
        if consent is None:
            plan.consent = self._new_consent(patient, values["enrolment_date"])
            plan.new_parts.add("consent")
        else:
            plan.consent = consent
            consent.patient = patient
            if consent.consent_date == old_enrolment_date:  # the consent recorded as the enrolment date follows it
                self._diff(plan, "consent", consent, {"consent_date": values["enrolment_date"]})
        if not plan.changes and not plan.new_parts:
            return None
        return plan

    @staticmethod
    def _new(model: type[R], patient: Patient, values: dict[str, Any], **related: Any) -> R:
        return new_instance(model, {"patient_id": patient.pk, **values}, {"patient": patient, **related})

    def _new_consent(self, patient: Patient, enrolment_date: dt.date) -> Consent:
        """RIF's enrolment date is "the date of consent and inclusion"; the form version is not in RIF."""
        values = {"form_version": CONSENT_FORM_VERSION, "consent_date": enrolment_date}
        return self._new(Consent, patient, values)

    @staticmethod
    def _diff(plan: _PatientPlan, part: str, obj: ClinicalRecord, values: dict[str, Any]) -> None:
        changed = {name: value for name, value in values.items() if getattr(obj, name) != value}
        if changed:
            plan.changes[part] = changed
            plan.versions[part] = (type(obj), obj.pk, obj.version)
            for name, value in changed.items():
                setattr(obj, name, value)

    def _check_versions(self, plans: list[_PatientPlan]) -> None:
        by_model: dict[type[ClinicalRecord], list[int]] = defaultdict(list)
        for plan in plans:
            for model, pk, _ in plan.versions.values():
                by_model[model].append(pk)
        current = {model: writing.lock_versions(model, pks) for model, pks in by_model.items()}
        for plan in list(plans):
            if any(current[model].get(pk) != version for model, pk, version in plan.versions.values()):
                self.reject(
                    plan.row,
                    "this patient was changed by someone else while the import was running; "
                    "import the file again to apply this row.",
                )
                plans.remove(plan)

    def _add_eligibility(self, plans: list[_PatientPlan]) -> None:
        """MIROCALS eligibility as `enrolment_record` computes it, for new or changed enrolments."""
        needing = [p for p in plans if "enrolment" in p.new_parts or "enrolment" in p.changes]
        known = [p.patient.pk for p in needing if not p.is_new]
        births = (
            {
                identity.patient_id: identity.date_of_birth
                for identity in PatientIdentity.objects.filter(patient_id__in=known)
            }
            if known
            else {}
        )
        for plan in needing:
            enrolment, diagnosis, patient = plan.enrolment, plan.diagnosis, plan.patient
            assert enrolment is not None and diagnosis is not None
            born = births.get(patient.pk)
            if born is not None:
                age: int | None = age_in_years(born, enrolment.enrolment_date)
            else:  # year of birth only, as access_programme.services.eligibility_input does
                age = enrolment.enrolment_date.year - patient.year_of_birth - 1 if patient.year_of_birth else None
            unmet = unmet_mirocals_criteria(
                EligibilityInput(
                    enrolment_date=enrolment.enrolment_date,
                    age_years=age,
                    symptom_onset_date=diagnosis.symptom_onset_date,
                    svc_percent=diagnosis.svc_percent,
                    el_escorial=diagnosis.el_escorial,
                    riluzole_start_date=diagnosis.riluzole_start_date,
                )
            )
            enrolment.meets_mirocals_criteria = not unmet
            enrolment.unmet_criteria = [criterion.as_dict() for criterion in unmet]
            if unmet and not enrolment.eligibility_justification.strip():
                enrolment.eligibility_justification = eligibility_justification(self.file)
            if "enrolment" in plan.changes:
                plan.changes["enrolment"].update(
                    meets_mirocals_criteria=enrolment.meets_mirocals_criteria,
                    unmet_criteria=enrolment.unmet_criteria,
                    eligibility_justification=enrolment.eligibility_justification,
                )

    def _validate(self, plan: _PatientPlan) -> bool:
        """Run each record's rules; report every problem of the row at once."""
        messages: list[str] = []
        named: list[str] = []
        for part, fields in self._checks:
            if part not in plan.new_parts and part not in plan.changes:
                continue  # an unchanged record is not re-validated, as a form would not
            obj = getattr(plan, part)
            try:
                validate(obj, fields)
            except ValidationError as error:
                message, columns = describe(error, self.columns)
                if message not in messages:
                    messages.append(message)
                named.extend(c for c in columns if c not in named)
        if messages:
            self.reject(plan.row, " ".join(messages), named)
            return False
        return True

    # -- writing --------------------------------------------------------------------------
    def _write(self, plans: list[_PatientPlan]) -> None:
        user, reason = self.ctx.user, self.reason
        new_patients = [p.patient for p in plans if p.is_new]
        for patient in new_patients:
            patient.pk = None
        writing.insert(new_patients, Patient, reason=reason, user=user)
        new_parts: dict[str, list[ClinicalRecord]] = defaultdict(list)
        changed: dict[str, list[ClinicalRecord]] = defaultdict(list)
        changed_fields: dict[str, set[str]] = defaultdict(set)
        for plan in plans:
            for part in ("diagnosis", "consent", "enrolment"):
                obj = getattr(plan, part)
                if part in plan.new_parts:
                    obj.patient = plan.patient  # relink: the patient now has its real id
                    new_parts[part].append(obj)
                elif part in plan.changes:
                    changed[part].append(obj)
                    changed_fields[part].update(plan.changes[part])
            if "patient" in plan.changes:
                changed["patient"].append(plan.patient)
                changed_fields["patient"].update(plan.changes["patient"])
        models_by_part: dict[str, type[ClinicalRecord]] = {
            "patient": Patient,
            "diagnosis": Diagnosis,
            "consent": Consent,
            "enrolment": Enrolment,
        }
        for part in ("diagnosis", "consent", "enrolment"):
            writing.insert(new_parts[part], models_by_part[part], reason=reason, user=user)
        for part, objs in changed.items():
            writing.update(objs, models_by_part[part], sorted(changed_fields[part]), reason=reason, user=user)
        self._advance_site_numbers(new_patients)
        self.counts.created += sum(1 for p in plans if p.is_new)
        self.counts.updated += sum(1 for p in plans if not p.is_new)

    @staticmethod
    def _advance_site_numbers(patients: list[Patient]) -> None:
        """Keep `study_id_allocate` from ever handing out an imported study id again."""
        highest: dict[int, int] = {}
        for patient in patients:
            match = re.fullmatch(rf"{re.escape(patient.site.code)}-(\d+)", patient.study_id)
            if match:
                highest[patient.site_id] = max(highest.get(patient.site_id, 0), int(match.group(1)))
        # FOR NO KEY UPDATE: it does not wait for (or deadlock with) the key-share locks that
        # another worker's patient inserts hold on the same site.
        for site in Site.objects.select_for_update(no_key=True).filter(pk__in=highest).order_by("pk"):
            if site.next_patient_number <= highest[site.pk]:
                site.next_patient_number = highest[site.pk] + 1
                site.save(update_fields=["next_patient_number"])


# --------------------------------------------------------------------------------------
# events.csv: deaths first (pass 1), then every other event (pass 2)
# --------------------------------------------------------------------------------------


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
        present, detail = _optional(row, "detail", self.present, "")
        return {"detail": detail} if present else {}

    patient_needs = frozenset({"diagnosis"})

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        return self.build(
            patient,
            {"event_type": row.values["event_type"], "event_date": row.values["event_date"], **values},
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


# --------------------------------------------------------------------------------------
# alsfrs_r.csv
# --------------------------------------------------------------------------------------


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

    patient_needs = frozenset({"diagnosis"})

    def new_object(self, patient: Patient, row: Row, values: dict[str, Any]) -> ClinicalRecord:
        return self.build(patient, {"assessment_date": row.values["assessment_date"], **values})

    def check(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        validate(obj, self.fields)
        obj.derive_scores(cached_onset(patient))  # type: ignore[attr-defined]

    def write(self, new: list[ClinicalRecord], changed: list[ClinicalRecord]) -> None:
        writing.insert(new, self.model, reason=self.reason, user=self.ctx.user)
        fields = (*self.compare_fields, *AlsfrsrAssessment.DERIVED_FIELDS)
        writing.update(changed, self.model, fields, reason=self.reason, user=self.ctx.user)


# --------------------------------------------------------------------------------------
# biomarkers.csv
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# adverse_events.csv
# --------------------------------------------------------------------------------------


class AdverseEventLoader(RecordLoader):
    spec = rif.ADVERSE_EVENTS
    model = AdverseEvent
    compare_fields = (
        "resolution_date",
        "ctcae_grade",
        "serious",
        *SERIOUSNESS_CRITERION_FIELDS,
        "relatedness",
        "action_taken",
        "outcome",
        "meddra_llt_code",
    )
    validated_fields = ("term", "onset_date", *compare_fields)
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
            present, value = _optional(row, column, self.present, default)
            if present:
                desired[column] = value
        present, criteria = _optional(row, "seriousness_criteria", self.present, [])
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
        """Write, then flag every serious event as the web, API and admin do (`sae_alerts_raise`)."""
        super().write(new, changed)
        sae_alerts_raise(actor=self.ctx.user, adverse_events=[*new, *changed])  # type: ignore[list-item]


# --------------------------------------------------------------------------------------
# cycles.csv
# --------------------------------------------------------------------------------------


class CycleLoader(RecordLoader):
    spec = rif.CYCLES
    model = TreatmentCycle
    patient_needs = frozenset({"enrolment"})
    compare_fields = (
        "start_date",
        "planned_dose_miu",
        "days_administered",
        "total_dose_miu",
        "interrupted",
        "interruption_reason",
    )
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
        present, planned = _optional(row, "planned_dose_miu", self.present, PROTOCOL_DAILY_DOSE_MIU)
        if present:
            desired["planned_dose_miu"] = planned
        present, total = _optional(row, "total_dose_miu", self.present)
        if present:
            # An empty total is the protocol arithmetic, as `cycle_start` fills it in.
            days = values["days_administered"]
            desired["total_dose_miu"] = (
                total if total is not None else (planned or PROTOCOL_DAILY_DOSE_MIU) * Decimal(days or 0)
            )
        for column, default in (("interrupted", False), ("interruption_reason", "")):
            present, value = _optional(row, column, self.present, default)
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


# --------------------------------------------------------------------------------------
# dispensing.csv
# --------------------------------------------------------------------------------------


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
    patient_needs = frozenset({"enrolment"})
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
        self.cycles = {
            (patient_id, number): (pk, patient_id)
            for patient_id, number, pk in TreatmentCycle.objects.filter(
                patient_id__any_of=[p.pk for p in patients.values()]
            ).values_list("patient_id", "cycle_number", "pk")
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
        return self.build(
            patient,
            {"dispensed_on": row.values["dispensed_on"], "batch_id": state.batch.pk, **values},
            batch=state.batch,
        )

    def check(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        """`Dispensing.clean()` without the point-of-supply rules RIF cannot carry
        (`rif.DISPENSING_FIELDS_NOT_IN_RIF`), its queries answered from the chunk."""
        assert isinstance(obj, Dispensing)
        state = self._batch_for(row)
        validate(obj, self.fields, clean=False)
        ClinicalRecord.clean(obj)
        errors = dispensing_errors(
            obj,
            cycle_patient_id=self.cycles[(patient.pk, row.values["cycle_number"])][1],
            batch=state.batch,
            enrolment=cached_enrolment(patient),
            # The natural key holds the batch: an existing record took its quantity from this one.
            previous_quantity=existing.get("quantity") if existing is not None else None,
            stock_known=state.stock_known,
        )
        if errors:
            raise ValidationError(errors)

    def accepted(self, obj: ClinicalRecord, row: Row, patient: Patient, existing: Existing | None) -> None:
        assert isinstance(obj, Dispensing)
        state = self._batch_for(row)
        batch = state.batch
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
        created = [s.batch for s in self.batches.values() if s.is_new and s.touched]
        writing.insert(created, Batch, reason=self.reason, user=self.ctx.user)
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
        writing.insert(new, Dispensing, reason=self.reason, user=self.ctx.user)
        writing.update(changed, Dispensing, self.compare_fields, reason=self.reason, user=self.ctx.user)
        stock = [s.batch for s in self.batches.values() if s.touched and not s.is_new]
        writing.update(
            stock,
            Batch,
            ["quantity_remaining", "quantity_received", "received_on"],
            reason=self.reason,
            user=self.ctx.user,
        )
        for state in self.batches.values():
            state.is_new = False
            state.touched = False


LOADERS: dict[str, type[Loader]] = {
    rif.PATIENTS.name: PatientLoader,
    rif.ALSFRS_R.name: AlsfrsrLoader,
    rif.BIOMARKERS.name: BiomarkerLoader,
    rif.ADVERSE_EVENTS.name: AdverseEventLoader,
    rif.CYCLES.name: CycleLoader,
    rif.DISPENSING.name: DispensingLoader,
}
