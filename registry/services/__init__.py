"""The registry's write services, one per action: `<entity>_<action>(*, actor=…)`.

Each validates once (the model's rules), writes in one transaction with its audit row, and
emits its consequences on commit. Web pages, the API, the importer and the admin all call
these; none restates a rule.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models

from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    ClinicalRecord,
    Consent,
    Diagnosis,
    Patient,
    PatientIdentity,
)
from registry.services.audit import StaleRecordError, audited_save, authorise_write, record_update
from registry.services.bulk import record_versions_lock, records_bulk_insert, records_bulk_update
from registry.services.clinical import (
    alsfrsr_bulk_record,
    alsfrsr_record,
    alsfrsr_update,
    biomarker_record,
    biomarker_update,
    outcome_record,
    outcome_update,
    outcomes_bulk_record,
)
from registry.services.identity import identity_keys_rotate
from registry.services.patients import (
    consent_record,
    consent_update,
    consent_withdraw,
    diagnosis_update,
    identity_record,
    identity_update,
    patient_register,
    patient_update,
    study_id_allocate,
    study_ids_reserve,
)
from registry.services.quality import (
    data_quality_check,
    data_quality_scan,
    data_queries_raise,
    data_query_answer,
    data_query_close,
    data_query_raise,
    data_query_reopen,
    data_query_restate,
)
from registry.services.safety import (
    adverse_event_record,
    adverse_event_update,
    sae_alert_acknowledge,
    sae_alert_recipients,
    sae_alerts_mail,
    sae_alerts_raise,
)
from registry.services.signatures import signature_invalidate, signature_sign

#: A create service: `actor=` and the record's own fields by keyword (each service declares its own).
CreateService = Callable[..., ClinicalRecord]


class UpdateService(Protocol):
    def __call__(
        self, *, actor: Any, record: Any, reason: str, expected_version: int | None, **changes: Any
    ) -> ClinicalRecord: ...


@dataclass(frozen=True)
class RecordServices:
    """The services that create and correct one kind of record, for adapters that handle any
    kind (the admin, the API's resources, the clinic's edit page). `create` None: records of
    the kind are created by another action (a patient and its diagnosis at registration)."""

    create: CreateService | None
    update: UpdateService


RECORD_SERVICES: dict[type[models.Model], RecordServices] = {
    Patient: RecordServices(None, patient_update),
    PatientIdentity: RecordServices(identity_record, identity_update),
    Consent: RecordServices(consent_record, consent_update),
    Diagnosis: RecordServices(None, diagnosis_update),
    AlsfrsrAssessment: RecordServices(alsfrsr_record, alsfrsr_update),
    BiomarkerResult: RecordServices(biomarker_record, biomarker_update),
    ClinicalEvent: RecordServices(outcome_record, outcome_update),
    AdverseEvent: RecordServices(adverse_event_record, adverse_event_update),
}

__all__ = [
    "RECORD_SERVICES",
    "RecordServices",
    "StaleRecordError",
    "adverse_event_record",
    "adverse_event_update",
    "alsfrsr_bulk_record",
    "alsfrsr_record",
    "alsfrsr_update",
    "audited_save",
    "authorise_write",
    "biomarker_record",
    "biomarker_update",
    "consent_record",
    "consent_update",
    "consent_withdraw",
    "data_quality_check",
    "data_quality_scan",
    "data_queries_raise",
    "data_query_answer",
    "data_query_close",
    "data_query_raise",
    "data_query_reopen",
    "data_query_restate",
    "diagnosis_update",
    "identity_keys_rotate",
    "identity_record",
    "identity_update",
    "outcome_record",
    "outcome_update",
    "outcomes_bulk_record",
    "patient_register",
    "patient_update",
    "record_update",
    "record_versions_lock",
    "records_bulk_insert",
    "records_bulk_update",
    "sae_alert_acknowledge",
    "sae_alert_recipients",
    "sae_alerts_mail",
    "sae_alerts_raise",
    "signature_invalidate",
    "signature_sign",
    "study_id_allocate",
    "study_ids_reserve",
]
