"""The registry's models, one module per aggregate; import them from `registry.models`."""

from registry.models.access import IdentityAccess
from registry.models.assessments import AlsfrsrAssessment, BiomarkerResult
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
from registry.models.events import EVENT_BEFORE_ONSET, ClinicalEvent, death_errors, latest_record_date, timeline_models
from registry.models.patient import PERCENT_PREDICTED, Consent, Diagnosis, Patient, PatientIdentity, symptom_onset
from registry.models.people import Site, User
from registry.models.safety import AdverseEvent, SeriousAdverseEventAlert

__all__ = [
    "EVENT_BEFORE_ONSET",
    "NON_FIELD",
    "PERCENT_PREDICTED",
    "SERIOUSNESS_CRITERIA",
    "SERIOUSNESS_CRITERION_FIELDS",
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
    "Diagnosis",
    "ElEscorial",
    "EventType",
    "IdentityAccess",
    "OnsetRegion",
    "Patient",
    "PatientIdentity",
    "Relatedness",
    "Role",
    "SeriousAdverseEventAlert",
    "Sex",
    "Site",
    "TriState",
    "User",
    "YesNoUnknown",
    "as_date",
    "check_not_after_death",
    "check_not_in_future",
    "check_order",
    "death_errors",
    "latest_record_date",
    "rules_today",
    "same_day",
    "symptom_onset",
    "timeline_models",
]
