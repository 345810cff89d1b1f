"""The patient aggregate: the pseudonymous patient, identity, consent and diagnosis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.crypto import blind_index
from registry.fields import EncryptedDateField, EncryptedTextField
from registry.identifiers import STUDY_ID_MAX_LENGTH, STUDY_ID_PATTERN, STUDY_ID_RULE, validate_study_id
from registry.models.base import ClinicalRecord, check_not_in_future, check_order, rules_today
from registry.models.choices import ElEscorial, EventType, OnsetRegion, Sex, TriState, YesNoUnknown
from registry.models.people import Site
from registry.nhs_number import nhs_number_error, normalise_nhs_number
from registry.scoring import MAX_TOTAL as ALSFRSR_MAX_TOTAL


class Patient(ClinicalRecord):
    """A pseudonymous registry participant. Identity is kept apart in PatientIdentity."""

    study_id = models.CharField(
        max_length=STUDY_ID_MAX_LENGTH, unique=True, editable=False, validators=[validate_study_id]
    )
    # No index of its own: the two indexes below lead with it.
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients", db_index=False)
    sex = models.CharField(max_length=6, choices=Sex.choices)
    year_of_birth = models.PositiveSmallIntegerField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["study_id"]
        indexes = [
            # The patient list of a site's users, in study id order, walks this to its first page.
            models.Index(fields=["site", "study_id"], name="patient_site_study_id"),
            # Every read scoped to the user's sites joins their patients' ids: read from this
            # index alone, not from the table (a batch page's counts at 100,000 patients, 35 -> 22 ms).
            models.Index(fields=["site", "id"], name="patient_site_id"),
        ]
        constraints = [
            # The validator's rule held by the database too, whatever writes the row (the importer's
            # COPY, psql): so no study id is empty or starts with a spreadsheet formula character, and
            # the CSV exports write it as it is (analytics.dataset_columns.Column.formula_safe).
            models.CheckConstraint(
                condition=Q(study_id__regex=STUDY_ID_PATTERN),
                name="patient_study_id_pattern",
                violation_error_message=STUDY_ID_RULE,
            ),
        ]

    def __str__(self) -> str:
        return self.study_id

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """The study id's validator already applies the CHECK constraint's pattern, with the
        field's own message: not asked again of the database (a query on every save)."""
        super().validate_constraints(exclude={*(exclude or ()), "study_id"})

    def clean(self) -> None:
        super().clean()
        this_year = rules_today().year
        if self.year_of_birth is not None and not 1900 <= self.year_of_birth <= this_year:
            raise ValidationError({"year_of_birth": f"Year of birth must be between 1900 and {this_year}."})

    def symptom_onset_date(self) -> dt.date | None:
        """Date of symptom onset from the diagnosis, if recorded (no query when it is loaded)."""
        return symptom_onset(self)

    def collection_withdrawn_on(self) -> dt.date | None:
        """The earliest date the patient withdrew from further data collection (or from any use
        of their data), if they did: nothing dated later may be recorded, but for the records the
        law keeps (`ClinicalRecord.kept_after_withdrawal`)."""
        from registry.models.withdrawal import collection_withdrawals  # defined on top of Patient

        return collection_withdrawals([self.pk]).get(self.pk)

    def treatment_withdrawn_on(self) -> dt.date | None:
        """The earliest withdrawal in force at any level, if any: every level stops treatment, so
        nothing may be dispensed after it (follow-up goes on unless data collection stopped)."""
        from registry.models.withdrawal import treatment_withdrawals  # defined on top of Patient

        return treatment_withdrawals([self.pk]).get(self.pk)

    def death_date(self, exclude: models.Model | None = None) -> dt.date | None:
        """Date of the recorded death, if any (one query unless prefetched).

        `exclude` is a record being validated: when it is itself a clinical event, its own
        stored date is left out (a death being corrected is not "another" death).
        """
        events = self.events.filter(event_type=EventType.DEATH)
        if exclude is not None and exclude.pk and isinstance(exclude, events.model):
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
    """Informed consent to the registry, with its scope. Withdrawals are records of their own
    (`registry.models.withdrawal.ConsentWithdrawal`), by level, dated, never overwritten."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    form_version = models.CharField(max_length=20, help_text="Version of the consent form signed, e.g. v2.1")
    consent_date = models.DateField()
    consents_to_registry = models.BooleanField(default=True, help_text="Collection of clinical data in the registry")
    consents_to_data_sharing = models.BooleanField(
        default=True, help_text="Sharing pseudonymised data with regulators and researchers"
    )
    consents_to_future_contact = models.BooleanField(default=False)

    timeline_date_field = "consent_date"
    signature_locks = False  # a patient may re-consent after sign-off
    follows_symptom_onset = False
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "consent_date"]

    def __str__(self) -> str:
        return f"Consent {self.form_version} of {self.patient_id} on {self.consent_date}"

    def clean(self) -> None:
        super().clean()
        if not self.consents_to_registry:
            raise ValidationError(
                {"consents_to_registry": "Registry participation requires consent to data collection."}
            )


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
        "FVC at diagnosis (% predicted)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=PERCENT_PREDICTED,
        help_text="The measurement nearest the diagnosis (an ENCALS predictor), not one at enrolment.",
    )
    alsfrsr_total_at_diagnosis = models.PositiveSmallIntegerField(
        "ALSFRS-R total at diagnosis",
        null=True,
        blank=True,
        validators=[MaxValueValidator(ALSFRSR_MAX_TOTAL)],
        help_text="For ΔFS at diagnosis (an ENCALS predictor); leave empty if not scored then.",
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
        "alsfrsr_total_at_diagnosis",
        "weight_kg",
        "c9orf72",
        "ftd",
    )

    timeline_date_field = "diagnosis_date"
    follows_symptom_onset = False  # it records onset, and orders the diagnosis after it itself
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


def symptom_onset(patient: Patient) -> dt.date | None:
    try:
        return patient.diagnosis.symptom_onset_date
    except Diagnosis.DoesNotExist:
        return None
