"""The enumerations of clinical data: one definition each, used by models, forms, API and import."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    PHARMACIST = "pharmacist", "Pharmacist"
    ANALYST = "analyst", "Analyst"
    DATA_MANAGER = "data_manager", "Data manager"


class Sex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"


class OnsetRegion(models.TextChoices):
    BULBAR = "bulbar", "Bulbar"
    UPPER_LIMB = "upper_limb", "Upper limb"
    LOWER_LIMB = "lower_limb", "Lower limb"
    RESPIRATORY = "respiratory", "Respiratory"
    GENERALISED = "generalised", "Generalised"


class ElEscorial(models.TextChoices):
    POSSIBLE = "possible", "Possible"
    PROBABLE_LAB_SUPPORTED = "probable_lab_supported", "Probable, laboratory-supported"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


class TriState(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    UNKNOWN = "unknown", "Unknown"


class YesNoUnknown(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Unknown"


class Analyte(models.TextChoices):
    CSF_PNFH = "csf_pnfh", "CSF phosphorylated neurofilament heavy chain (pNFH)"
    SERUM_NFL = "serum_nfl", "Serum neurofilament light chain (NfL)"
    PLASMA_NFL = "plasma_nfl", "Plasma neurofilament light chain (NfL)"
    TREG_PERCENT_CD4 = "treg_percent_cd4", "Regulatory T cells (% of CD4+)"
    PLASMA_CCL2 = "plasma_ccl2", "Plasma CCL2"
    CSF_CCL2 = "csf_ccl2", "CSF CCL2"


class EventType(models.TextChoices):
    DEATH = "death", "Death"
    TRACHEOSTOMY = "tracheostomy", "Tracheostomy"
    PERMANENT_VENTILATION = "permanent_ventilation", "Permanent ventilation (NIV > 22 h/day for > 7 days)"
    NIV_START = "niv_start", "Start of non-invasive ventilation"
    GASTROSTOMY = "gastrostomy", "Gastrostomy"
    WITHDRAWAL = "withdrawal", "Withdrawal from the programme"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
    LAST_KNOWN_ALIVE = "last_known_alive", "Last known alive"


class CtcaeGrade(models.IntegerChoices):
    MILD = 1, "1 – Mild"
    MODERATE = 2, "2 – Moderate"
    SEVERE = 3, "3 – Severe or medically significant"
    LIFE_THREATENING = 4, "4 – Life-threatening"
    DEATH = 5, "5 – Death related to AE"


class Relatedness(models.TextChoices):
    NOT_RELATED = "not_related", "Not related"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


class AeAction(models.TextChoices):
    NONE = "none", "No action / dose not changed"
    INTERRUPTED = "interrupted", "Treatment interrupted"
    DOSE_REDUCED = "dose_reduced", "Dose reduced"
    WITHDRAWN = "withdrawn", "Treatment permanently withdrawn"
    NOT_APPLICABLE = "not_applicable", "Not applicable (untreated)"
    UNKNOWN = "unknown", "Unknown"


class AeOutcome(models.TextChoices):
    RECOVERED = "recovered", "Recovered"
    RECOVERING = "recovering", "Recovering"
    NOT_RECOVERED = "not_recovered", "Not recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", "Recovered with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


SERIOUSNESS_CRITERIA: tuple[str, ...] = (
    "death",
    "life_threatening",
    "hospitalisation",
    "disability",
    "congenital_anomaly",
    "important_medical_event",
)
#: The model's boolean field for each seriousness criterion, in the order above. Forms,
#: serializers and imports list these rather than repeat them; the rules are in clean().
SERIOUSNESS_CRITERION_FIELDS: tuple[str, ...] = tuple(f"criterion_{name}" for name in SERIOUSNESS_CRITERIA)
