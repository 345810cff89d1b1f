"""The registry's patients and their clinical data.

Every clinical model derives from ClinicalRecord: it carries a version for optimistic
locking and refuses an update that gives no reason, so the audit trail (simple-history)
always says who changed what, when and why. Validation lives in each model's clean(),
one place per rule; services call full_clean() before every save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registry import scoring
from registry.fields import EncryptedDateField, EncryptedTextField
from registry.nhs_number import nhs_number_error, normalise_nhs_number


class ChangeReasonRequired(ValidationError):
    """An update to clinical data was attempted without a reason for change."""


class Site(models.Model):
    """A treating centre. Its code prefixes the study ids of its patients (GB-LON-0001)."""

    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2}-[A-Z0-9]{2,8}$", "Use a code like GB-LON: country, hyphen, centre.")],
    )
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, default="GB")
    next_patient_number = models.PositiveIntegerField(default=1, editable=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    PHARMACIST = "pharmacist", "Pharmacist"
    ANALYST = "analyst", "Analyst"
    DATA_MANAGER = "data_manager", "Data manager"


class User(AbstractUser):
    """A registry user. Clinicians and pharmacists see only their sites' patients."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    sites = models.ManyToManyField(Site, blank=True, related_name="users")

    @property
    def is_site_scoped(self) -> bool:
        return self.role in (Role.CLINICIAN, Role.PHARMACIST) and not self.is_superuser


class ClinicalRecord(models.Model):
    """Base of every audited clinical record."""

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Name of the date field that places the record in the patient's timeline; dated records
    # are checked against the future and against the patient's death.
    timeline_date_field: ClassVar[str | None] = None

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding and not getattr(self, "_change_reason", None):
            raise ChangeReasonRequired("A reason for change is required to edit clinical data.")
        super().save(*args, **kwargs)
        # The reason belongs to this save only (simple-history read it in post_save).
        self.__dict__.pop("_change_reason", None)

    def timeline_patient(self) -> Patient | None:
        return getattr(self, "patient", None)

    def clean(self) -> None:
        super().clean()
        field = self.timeline_date_field
        if not field:
            return
        value = getattr(self, field)
        if value is None:
            return
        check_not_in_future(value, field)
        patient = self.timeline_patient()
        if patient is not None and patient.pk is not None:
            check_not_after_death(patient, value, field, exclude=self)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


_fixed_today: ContextVar[dt.date | None] = ContextVar("rules_today", default=None)


def rules_today() -> dt.date:
    """Today's local date, as the rules see it ("in the future", "dosing is over").

    `timezone.localdate()` unless a bulk caller fixed the day with `same_day()`: the lookup of
    the active time zone goes through asgiref's context-local storage and costs more than the
    rule itself when it runs for a million imported rows.
    """
    fixed = _fixed_today.get()
    return timezone.localdate() if fixed is None else fixed


@contextmanager
def same_day() -> Iterator[dt.date]:
    """Fix `rules_today()` for a batch of validations (one import chunk: seconds, not a day)."""
    today = timezone.localdate()
    token = _fixed_today.set(today)
    try:
        yield today
    finally:
        _fixed_today.reset(token)


def check_not_in_future(value: dt.date | dt.datetime, field: str) -> None:
    if _as_date(value) > rules_today():
        raise ValidationError({field: "This date is in the future."})


def check_not_after_death(
    patient: Patient, value: dt.date | dt.datetime, field: str, exclude: models.Model | None = None
) -> None:
    death = patient.death_date(exclude=exclude if isinstance(exclude, ClinicalEvent) else None)
    if death is not None and _as_date(value) > death:
        raise ValidationError({field: f"The patient died on {death:%d %b %Y}; nothing can be recorded after death."})


def check_order(earlier: dt.date | None, later: dt.date | None, later_field: str, message: str) -> None:
    if earlier is not None and later is not None and later < earlier:
        raise ValidationError({later_field: message})


class Sex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"


class Patient(ClinicalRecord):
    """A pseudonymous registry participant. Identity is kept apart in PatientIdentity."""

    study_id = models.CharField(max_length=24, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    sex = models.CharField(max_length=6, choices=Sex.choices)
    year_of_birth = models.PositiveSmallIntegerField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["study_id"]
        # The patient list of a site's users, in study id order, walks this to its first page.
        indexes = [models.Index(fields=["site", "study_id"], name="patient_site_study_id")]

    def __str__(self) -> str:
        return self.study_id

    def clean(self) -> None:
        super().clean()
        this_year = rules_today().year
        if self.year_of_birth is not None and not 1900 <= self.year_of_birth <= this_year:
            raise ValidationError({"year_of_birth": f"Year of birth must be between 1900 and {this_year}."})

    def death_date(self, exclude: ClinicalEvent | None = None) -> dt.date | None:
        """Date of the recorded death, if any (one query unless prefetched)."""
        events = self.events.filter(event_type=EventType.DEATH)
        if exclude is not None and exclude.pk:
            events = events.exclude(pk=exclude.pk)
        return events.values_list("event_date", flat=True).first()


class PatientIdentity(ClinicalRecord):
    """Direct identifiers, encrypted at rest and never shown to analysts."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="identity")
    given_name = EncryptedTextField()
    family_name = EncryptedTextField()
    date_of_birth = EncryptedDateField()
    nhs_number = EncryptedTextField(blank=True)
    nhs_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "patient identities"
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number_hash"],
                condition=~Q(nhs_number_hash=""),
                name="unique_nhs_number",
                violation_error_message="This NHS number is already registered for another patient.",
            )
        ]

    def __str__(self) -> str:
        return f"Identity of {self.patient_id}"

    def clean(self) -> None:
        super().clean()
        from registry.crypto import blind_index

        if self.date_of_birth:
            check_not_in_future(self.date_of_birth, "date_of_birth")
            if self.patient_id and self.patient.year_of_birth != self.date_of_birth.year:
                raise ValidationError({"date_of_birth": "Date of birth does not match the patient's year of birth."})
        if self.nhs_number:
            error = nhs_number_error(self.nhs_number)
            if error:
                raise ValidationError({"nhs_number": error})
            self.nhs_number = normalise_nhs_number(self.nhs_number)
            self.nhs_number_hash = blind_index(self.nhs_number)
            duplicate = PatientIdentity.objects.filter(nhs_number_hash=self.nhs_number_hash).exclude(pk=self.pk)
            if duplicate.exists():
                raise ValidationError({"nhs_number": "This NHS number is already registered for another patient."})
        else:
            self.nhs_number_hash = ""


class Consent(ClinicalRecord):
    """Informed consent to the registry, with its scope and any withdrawal."""

    class WithdrawalScope(models.TextChoices):
        NO_FURTHER_COLLECTION = "no_further_collection", "No further data collection (keep data already given)"
        NO_FURTHER_CONTACT = "no_further_contact", "No further contact (records may still be updated)"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    form_version = models.CharField(max_length=20, help_text="Version of the consent form signed, e.g. v2.1")
    consent_date = models.DateField()
    consents_to_registry = models.BooleanField(default=True, help_text="Collection of clinical data in the registry")
    consents_to_data_sharing = models.BooleanField(
        default=True, help_text="Sharing pseudonymised data with regulators and researchers"
    )
    consents_to_future_contact = models.BooleanField(default=False)
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_scope = models.CharField(max_length=30, choices=WithdrawalScope.choices, blank=True)
    withdrawal_reason = models.TextField(blank=True)

    timeline_date_field = "consent_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "consent_date"]
        # Lists filter on "consent withdrawn": a small index over the few withdrawn consents.
        indexes = [
            models.Index(fields=["patient"], condition=Q(withdrawn_on__isnull=False), name="consent_withdrawn_patient")
        ]

    def __str__(self) -> str:
        return f"Consent {self.form_version} of {self.patient_id} on {self.consent_date}"

    def clean(self) -> None:
        super().clean()
        if not self.consents_to_registry:
            raise ValidationError(
                {"consents_to_registry": "Registry participation requires consent to data collection."}
            )
        check_order(self.consent_date, self.withdrawn_on, "withdrawn_on", "Withdrawal cannot precede consent.")
        if self.withdrawn_on:
            check_not_in_future(self.withdrawn_on, "withdrawn_on")
            if not self.withdrawal_scope:
                raise ValidationError({"withdrawal_scope": "State what the patient withdrew from."})
        elif self.withdrawal_scope or self.withdrawal_reason:
            raise ValidationError({"withdrawn_on": "Give the date of withdrawal."})


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


PERCENT_PREDICTED = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(200))]


class Diagnosis(ClinicalRecord):
    """Diagnosis and baseline: the prognostic covariates of every survival model."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="diagnosis")
    symptom_onset_date = models.DateField()
    onset_region = models.CharField(max_length=12, choices=OnsetRegion.choices)
    diagnosis_date = models.DateField()
    el_escorial = models.CharField("El Escorial category", max_length=24, choices=ElEscorial.choices)
    riluzole_start_date = models.DateField(null=True, blank=True)
    svc_percent = models.DecimalField(
        "SVC (% predicted)", max_digits=5, decimal_places=1, null=True, blank=True, validators=PERCENT_PREDICTED
    )
    fvc_percent = models.DecimalField(
        "FVC (% predicted)", max_digits=5, decimal_places=1, null=True, blank=True, validators=PERCENT_PREDICTED
    )
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(20)), MaxValueValidator(Decimal(300))],
    )
    c9orf72 = models.CharField("C9orf72 repeat expansion", max_length=8, choices=TriState.choices, blank=True)
    ftd = models.CharField("Frontotemporal dementia", max_length=8, choices=YesNoUnknown.choices, blank=True)

    #: What a clinician records, in form order: the enrolment and edit forms and the API take these.
    RECORDED_FIELDS: ClassVar[tuple[str, ...]] = (
        "symptom_onset_date",
        "onset_region",
        "diagnosis_date",
        "el_escorial",
        "riluzole_start_date",
        "svc_percent",
        "fvc_percent",
        "weight_kg",
        "c9orf72",
        "ftd",
    )

    timeline_date_field = "diagnosis_date"
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "diagnoses"

    def __str__(self) -> str:
        return f"Diagnosis of {self.patient_id}"

    def clean(self) -> None:
        super().clean()
        check_not_in_future(self.symptom_onset_date, "symptom_onset_date")
        check_order(
            self.symptom_onset_date, self.diagnosis_date, "diagnosis_date", "Diagnosis cannot precede symptom onset."
        )
        if self.riluzole_start_date:
            check_not_in_future(self.riluzole_start_date, "riluzole_start_date")
            check_order(
                self.symptom_onset_date,
                self.riluzole_start_date,
                "riluzole_start_date",
                "Riluzole cannot start before symptom onset.",
            )
        if self.patient_id and self.symptom_onset_date and self.symptom_onset_date.year < self.patient.year_of_birth:
            raise ValidationError({"symptom_onset_date": "Symptom onset cannot precede the year of birth."})

    @property
    def is_bulbar_onset(self) -> bool:
        return self.onset_region == OnsetRegion.BULBAR


def _item_field(label: str, required: bool = True) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label,
        null=not required,
        blank=not required,
        validators=[MaxValueValidator(4)],
    )


class AlsfrsrAssessment(ClinicalRecord):
    """One ALSFRS-R assessment. Totals, subscores, stages and ΔFS are derived, never entered."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="alsfrsr_assessments")
    assessment_date = models.DateField()
    q1_speech = _item_field("1. Speech")
    q2_salivation = _item_field("2. Salivation")
    q3_swallowing = _item_field("3. Swallowing")
    q4_handwriting = _item_field("4. Handwriting")
    q5a_cutting_without_gastrostomy = _item_field("5a. Cutting food (no gastrostomy)", required=False)
    q5b_cutting_with_gastrostomy = _item_field("5b. Cutting food (with gastrostomy)", required=False)
    q6_dressing_hygiene = _item_field("6. Dressing and hygiene")
    q7_turning_in_bed = _item_field("7. Turning in bed")
    q8_walking = _item_field("8. Walking")
    q9_climbing_stairs = _item_field("9. Climbing stairs")
    q10_dyspnoea = _item_field("10. Dyspnoea")
    q11_orthopnoea = _item_field("11. Orthopnoea")
    q12_respiratory_insufficiency = _item_field("12. Respiratory insufficiency")

    total = models.PositiveSmallIntegerField(editable=False)
    bulbar = models.PositiveSmallIntegerField(editable=False)
    fine_motor = models.PositiveSmallIntegerField(editable=False)
    gross_motor = models.PositiveSmallIntegerField(editable=False)
    respiratory = models.PositiveSmallIntegerField(editable=False)
    kings_stage = models.CharField(max_length=2, editable=False)
    mitos_stage = models.PositiveSmallIntegerField(editable=False)
    delta_fs = models.DecimalField(max_digits=6, decimal_places=3, null=True, editable=False)

    timeline_date_field = "assessment_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "assessment_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "assessment_date"],
                name="one_alsfrsr_per_patient_day",
                violation_error_message="An ALSFRS-R assessment is already recorded for this patient on this date.",
            ),
        ]

    DERIVED_FIELDS: ClassVar[tuple[str, ...]] = (
        "total",
        "bulbar",
        "fine_motor",
        "gross_motor",
        "respiratory",
        "kings_stage",
        "mitos_stage",
        "delta_fs",
    )

    def items(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in scoring.ITEM_FIELDS}

    def clean_fields(self, exclude: Any = None) -> None:
        # Derived columns are filled at save time from the items, never entered.
        super().clean_fields(exclude=set(exclude or ()) | set(self.DERIVED_FIELDS))

    def __str__(self) -> str:
        return f"ALSFRS-R {self.assessment_date} of {self.patient_id}"

    def clean(self) -> None:
        super().clean()
        errors = scoring.item_errors(self.items())
        if errors:
            raise ValidationError({(NON_FIELD if k == "__all__" else k): v for k, v in errors.items()})
        onset = _symptom_onset(self.patient) if self.patient_id else None
        check_order(onset, self.assessment_date, "assessment_date", "The assessment precedes symptom onset.")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_scores(_symptom_onset(self.patient))
        super().save(*args, **kwargs)

    def derive_scores(self, symptom_onset: dt.date | None) -> None:
        """Fill the derived columns from the items; the one place they are computed."""
        scores = scoring.score(self.items())
        self.total = scores.total
        self.bulbar = scores.bulbar
        self.fine_motor = scores.fine_motor
        self.gross_motor = scores.gross_motor
        self.respiratory = scores.respiratory
        self.kings_stage = scores.kings_stage
        self.mitos_stage = scores.mitos_stage
        dfs = scoring.delta_fs(scores.total, symptom_onset, self.assessment_date) if symptom_onset else None
        self.delta_fs = None if dfs is None else Decimal(str(round(dfs, 3)))


NON_FIELD = "__all__"


def _symptom_onset(patient: Patient) -> dt.date | None:
    try:
        return patient.diagnosis.symptom_onset_date
    except Diagnosis.DoesNotExist:
        return None


class Analyte(models.TextChoices):
    CSF_PNFH = "csf_pnfh", "CSF phosphorylated neurofilament heavy chain (pNFH)"
    SERUM_NFL = "serum_nfl", "Serum neurofilament light chain (NfL)"
    PLASMA_NFL = "plasma_nfl", "Plasma neurofilament light chain (NfL)"
    TREG_PERCENT_CD4 = "treg_percent_cd4", "Regulatory T cells (% of CD4+)"
    PLASMA_CCL2 = "plasma_ccl2", "Plasma CCL2"
    CSF_CCL2 = "csf_ccl2", "CSF CCL2"


class BiomarkerResult(ClinicalRecord):
    """A biomarker measurement, stored in its analyte's canonical unit with the assay used."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="biomarkers")
    sample_date = models.DateField()
    analyte = models.CharField(max_length=20, choices=Analyte.choices)
    value = models.DecimalField(max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal(0))])
    unit = models.CharField(max_length=8, editable=False)
    reported_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    reported_unit = models.CharField(max_length=8, blank=True)
    assay = models.CharField(max_length=120, help_text="Kit or method; pNFH thresholds depend on the assay.")
    laboratory = models.CharField(max_length=120, blank=True)

    #: The result's fields, in column order: the canonical value and unit derived from what the
    #: laboratory reported, beside it. The API serves and the dataset exports these.
    RECORDED_FIELDS: ClassVar[tuple[str, ...]] = (
        "sample_date",
        "analyte",
        "value",
        "unit",
        "reported_value",
        "reported_unit",
        "assay",
        "laboratory",
    )

    timeline_date_field = "sample_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "sample_date", "analyte"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "sample_date", "analyte"],
                name="one_result_per_analyte_day",
                violation_error_message="A result for this analyte is already recorded on this date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.sample_date} of {self.patient_id}"

    def clean(self) -> None:
        super().clean()
        from registry.units import CANONICAL_UNIT

        if self.analyte == Analyte.TREG_PERCENT_CD4 and self.value is not None and self.value > 100:
            raise ValidationError({"value": "A percentage cannot exceed 100."})
        if self.analyte and self.unit and CANONICAL_UNIT.get(self.analyte) != self.unit:
            raise ValidationError({"unit": f"{self.analyte} is stored in {CANONICAL_UNIT.get(self.analyte)}."})
        if not (self.assay or "").strip():
            raise ValidationError({"assay": "Name the assay: pNFH thresholds depend on it."})


class EventType(models.TextChoices):
    DEATH = "death", "Death"
    TRACHEOSTOMY = "tracheostomy", "Tracheostomy"
    PERMANENT_VENTILATION = "permanent_ventilation", "Permanent ventilation (NIV > 22 h/day for > 7 days)"
    NIV_START = "niv_start", "Start of non-invasive ventilation"
    GASTROSTOMY = "gastrostomy", "Gastrostomy"
    WITHDRAWAL = "withdrawal", "Withdrawal from the programme"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
    LAST_KNOWN_ALIVE = "last_known_alive", "Last known alive"


class ClinicalEvent(ClinicalRecord):
    """An outcome or milestone. Death is unique and nothing may follow it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="events")
    event_type = models.CharField(max_length=24, choices=EventType.choices)
    event_date = models.DateField()
    detail = models.TextField(blank=True, help_text="Cause of death, reason for withdrawal, …")

    timeline_date_field = "event_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "event_date", "event_type"]
        # Lists filter on "died, withdrew or was lost": the patients with an event of a type.
        indexes = [models.Index(fields=["event_type", "patient"], name="event_type_patient")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "event_type", "event_date"],
                name="one_event_per_type_day",
                violation_error_message="This event is already recorded on this date.",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(event_type="death"),
                name="one_death_per_patient",
                violation_error_message="A death is already recorded for this patient.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_date} of {self.patient_id}"

    def clean(self) -> None:
        is_death = self.patient_id and self.event_type == EventType.DEATH
        if is_death:
            patient = self.patient
            death_errors(
                self.event_date,
                other_death=patient.death_date(exclude=self),
                latest_record=latest_record_date(patient, exclude=self),
                symptom_onset=_symptom_onset(patient),
            )
        super().clean()
        if self.patient_id and not is_death:
            check_order(_symptom_onset(self.patient), self.event_date, "event_date", EVENT_BEFORE_ONSET)


EVENT_BEFORE_ONSET = "The event precedes symptom onset."


def death_errors(
    event_date: dt.date | None,
    *,
    other_death: dt.date | None,
    latest_record: dt.date | None,
    symptom_onset: dt.date | None,
) -> None:
    """What a death adds to every record's rules (`ClinicalRecord.clean`), in order: one death,
    nothing recorded after it, not before symptom onset.

    The one implementation, over plain facts, so the importer can give them from what it
    loaded for a chunk where `ClinicalEvent.clean()` queries them. `other_death` is the date of
    another death of the patient; `latest_record` the latest timeline date of its other records.
    """
    if other_death is not None:
        raise ValidationError({"event_type": "A death is already recorded for this patient."})
    if event_date is None:
        return
    if latest_record is not None and latest_record > event_date:
        raise ValidationError(
            {"event_date": f"Records exist dated {latest_record:%d %b %Y}, after this date of death."}
        )
    check_order(symptom_onset, event_date, "event_date", EVENT_BEFORE_ONSET)


def timeline_models() -> list[type[ClinicalRecord]]:
    """The patient's dated records a date of death may not precede (`latest_record_date`)."""
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord)
        and model.timeline_date_field
        and model is not Consent
        and "patient" in {f.name for f in model._meta.get_fields()}
    ]


def latest_record_date(patient: Patient, exclude: models.Model | None = None) -> dt.date | None:
    """The latest timeline date among all of a patient's clinical records."""
    latest: dt.date | None = None
    for model in timeline_models():
        qs = model.objects.filter(patient=patient)
        if exclude is not None and isinstance(exclude, model):
            qs = qs.exclude(pk=exclude.pk)
        value = qs.aggregate(m=models.Max(model.timeline_date_field))["m"]
        if value is not None:
            value = _as_date(value)
            latest = value if latest is None or value > latest else latest
    return latest


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


class AdverseEvent(ClinicalRecord):
    """An adverse event: severity (CTCAE grade) and seriousness (ICH E2A) are kept apart."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    term = models.CharField(max_length=200, help_text="Verbatim or CTCAE term, e.g. Injection site reaction")
    onset_date = models.DateField()
    resolution_date = models.DateField(null=True, blank=True)
    ctcae_grade = models.PositiveSmallIntegerField("CTCAE v5 grade", choices=CtcaeGrade.choices)
    serious = models.BooleanField(default=False)
    criterion_death = models.BooleanField("Results in death", default=False)
    criterion_life_threatening = models.BooleanField("Life-threatening", default=False)
    criterion_hospitalisation = models.BooleanField("Hospitalisation or prolongation", default=False)
    criterion_disability = models.BooleanField("Persistent or significant disability", default=False)
    criterion_congenital_anomaly = models.BooleanField("Congenital anomaly", default=False)
    criterion_important_medical_event = models.BooleanField("Important medical event", default=False)
    relatedness = models.CharField("Relatedness to IL-2LD", max_length=12, choices=Relatedness.choices)
    action_taken = models.CharField(max_length=16, choices=AeAction.choices, default=AeAction.NONE)
    outcome = models.CharField(max_length=24, choices=AeOutcome.choices, default=AeOutcome.UNKNOWN)
    meddra_llt_code = models.CharField(
        "MedDRA LLT code",
        max_length=8,
        blank=True,
        validators=[RegexValidator(r"^\d{8}$", "A MedDRA LLT code has 8 digits.")],
    )

    timeline_date_field = "onset_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "onset_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "term", "onset_date"],
                name="one_ae_per_term_onset",
                violation_error_message="This adverse event is already recorded with the same onset date.",
            ),
        ]

    @property
    def seriousness_criteria(self) -> list[str]:
        return [
            name
            for name, field in zip(SERIOUSNESS_CRITERIA, SERIOUSNESS_CRITERION_FIELDS, strict=True)
            if getattr(self, field)
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.onset_date} of {self.patient_id}"

    def clean(self) -> None:
        super().clean()
        check_order(self.onset_date, self.resolution_date, "resolution_date", "Resolution cannot precede onset.")
        if self.resolution_date:
            check_not_in_future(self.resolution_date, "resolution_date")
        criteria = self.seriousness_criteria
        if self.serious and not criteria:
            raise ValidationError({"serious": "A serious adverse event needs at least one seriousness criterion."})
        if criteria and not self.serious:
            raise ValidationError({"serious": "Seriousness criteria are ticked: mark the event as serious."})
        fatal = self.ctcae_grade == CtcaeGrade.DEATH
        if fatal != (self.outcome == AeOutcome.FATAL):
            raise ValidationError({"outcome": "CTCAE grade 5 and a fatal outcome go together."})
        if fatal and not self.criterion_death:
            raise ValidationError(
                {"criterion_death": "A grade 5 (fatal) event meets the 'results in death' criterion."}
            )


class SeriousAdverseEventAlert(models.Model):
    """A serious adverse event flagged to the data managers the moment it is recorded.

    Seriousness (ICH E2A) starts reporting clocks (24 h investigator to sponsor in trials;
    Yellow Card for unlicensed use), so the registry does not wait for anyone to look: the
    alert is listed on the data managers' page and mailed to them. It is workflow state, not
    clinical data, so it is not versioned; acknowledging one records who and when.
    """

    adverse_event = models.OneToOneField(AdverseEvent, on_delete=models.PROTECT, related_name="sae_alert")
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_by = models.ForeignKey("registry.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "registry.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = "serious adverse event alert"

    def __str__(self) -> str:
        return f"SAE alert for {self.adverse_event}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class IdentityAccess(models.Model):
    """One read of a patient's direct identifiers: who, which patient, when, through what.

    Append-only by design (no update path in the app, no admin change or delete); kept apart
    from the clinical audit trail because reads are not changes.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="identity_reads")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identity_reads")
    accessed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=40, help_text="web page, API, export …")
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-accessed_at"]
        verbose_name_plural = "identity accesses"

    def __str__(self) -> str:
        return f"{self.user} read {self.patient} at {self.accessed_at:%Y-%m-%d %H:%M}"
