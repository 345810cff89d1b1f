"""The registry's models, one module per aggregate; import them from `registry.models`."""

from registry.models.access import IdentityAccess
from registry.models.accounts import AccountAction, AccountEvent
from registry.models.assessments import AlsfrsrAssessment, BiomarkerResult, canonical_biomarker_value
from registry.models.base import (
    NON_FIELD,
    ChangeReasonRequired,
    ClinicalRecord,
    as_date,
    check_not_after_death,
    check_not_in_future,
    check_order,
    rules_today,
    same_day,
)
from registry.models.choices import (
    SERIOUSNESS_CRITERIA,
    SERIOUSNESS_CRITERION_FIELDS,
    AeAction,
    AeOutcome,
    Analyte,
    CtcaeGrade,
    ElEscorial,
    EventType,
    OnsetRegion,
    Relatedness,
    Role,
    Sex,
    TriState,
    YesNoUnknown,
)
from registry.models.events import (
    ClinicalEvent,
    death_errors,
    latest_record_date,
    latest_record_dates,
    timeline_models,
)
from registry.models.patient import PERCENT_PREDICTED, Consent, Diagnosis, Patient, PatientIdentity, symptom_onset
from registry.models.people import Site, User
from registry.models.quality import DataQuery, Finding, QueryStatus
from registry.models.safety import AdverseEvent, SeriousAdverseEventAlert

__all__ = [
    "NON_FIELD",
    "PERCENT_PREDICTED",
    "SERIOUSNESS_CRITERIA",
    "SERIOUSNESS_CRITERION_FIELDS",
    "AccountAction",
    "AccountEvent",
    "AdverseEvent",
    "AeAction",
    "AeOutcome",
    "AlsfrsrAssessment",
    "Analyte",
    "BiomarkerResult",
    "ChangeReasonRequired",
    "ClinicalEvent",
    "ClinicalRecord",
    "Consent",
    "CtcaeGrade",
    "DataQuery",
    "Diagnosis",
    "ElEscorial",
    "EventType",
    "Finding",
    "IdentityAccess",
    "OnsetRegion",
    "Patient",
    "PatientIdentity",
    "QueryStatus",
    "Relatedness",
    "Role",
    "SeriousAdverseEventAlert",
    "Sex",
    "Site",
    "TriState",
    "User",
    "YesNoUnknown",
    "as_date",
    "canonical_biomarker_value",
    "check_not_after_death",
    "check_not_in_future",
    "check_order",
    "death_errors",
    "latest_record_date",
    "latest_record_dates",
    "rules_today",
    "same_day",
    "symptom_onset",
    "timeline_models",
]
