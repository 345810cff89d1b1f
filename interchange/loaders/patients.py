"""patients.csv: a patient with its diagnosis, consent and enrolment, all or nothing per row."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

from access_programme.eligibility import EligibilityInput, age_in_years, unmet_mirocals_criteria
from access_programme.models import Enrolment
from access_programme.next_due import next_due_refresh
from interchange import rif
from interchange.loaders.core import ImportContext, Loader, Row, RowRejected, cached_enrolment
from interchange.validation import (
    bind_known_death,
    bind_known_withdrawal,
    describe,
    model_fields,
    new_instance,
    set_cached_relation,
    validate,
)
from registry import signing
from registry.models import (
    ClinicalEvent,
    ClinicalRecord,
    Consent,
    Diagnosis,
    EventType,
    Patient,
    PatientIdentity,
    collection_withdrawals,
    same_day,
    treatment_withdrawals,
)
from registry.services import record_versions_lock, records_bulk_insert, records_bulk_update, study_ids_reserve

CONSENT_FORM_VERSION = "not recorded"

R = TypeVar("R", bound=ClinicalRecord)


def eligibility_justification(file_name: str) -> str:
    return f"Imported from {file_name}: eligibility not assessed at source."


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
    "alsfrsr_total_at_diagnosis": "alsfrsr_total_at_diagnosis",
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
        with same_day(self.ctx.data_cutoff), transaction.atomic():
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
            withdrawals = collection_withdrawals([p.pk for p in patients.values()])
            treatment_stops = treatment_withdrawals([p.pk for p in patients.values()])
            for patient in patients.values():
                bind_known_withdrawal(patient, withdrawals.get(patient.pk), treatment_stops.get(patient.pk))
            consents: dict[int, Consent] = {}
            consents_of = Consent.objects.filter(patient_id__any_of=[p.pk for p in patients.values()])
            for consent in consents_of.order_by("consent_date", "pk"):
                consents.setdefault(consent.patient_id, consent)

            signed = signing.signed_casebooks([p.pk for p in patients.values()])
            plans: list[_PatientPlan] = []
            for row in rows:
                try:
                    plan = self._plan(row, patients.get(row.patient_id), consents, deaths)
                    if plan is not None and not plan.is_new and plan.patient.pk in signed:
                        raise RowRejected(signing.LOCKED_ROW, ["patient_id"])
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
            bind_known_withdrawal(patient, None, None)  # a patient not yet in the registry never withdrew
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
        current = {model: record_versions_lock(model, pks) for model, pks in by_model.items()}
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
        records_bulk_insert(actor=user, records=new_patients, model=Patient, reason=reason)
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
            records_bulk_insert(actor=user, records=new_parts[part], model=models_by_part[part], reason=reason)
        for part, objs in changed.items():
            records_bulk_update(
                actor=user, records=objs, model=models_by_part[part], fields=sorted(changed_fields[part]), reason=reason
            )
        study_ids_reserve(patients=new_patients)
        # as enrolment_record and enrolment_update do; a patient moved to another site moves its enrolment's kept site
        next_due_refresh(p.patient.pk for p in plans if {"enrolment", "patient"} & (p.new_parts | p.changes.keys()))
        self.counts.created += sum(1 for p in plans if p.is_new)
        self.counts.updated += sum(1 for p in plans if not p.is_new)
