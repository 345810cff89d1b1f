"""Serializers: shape and types only. Rules live in the models' clean() and in the services,
which the viewsets call; a serializer never saves.

Every audited record carries `version` (send back the one you loaded when you update: a
record changed since is refused with 409) and a write-only `reason` (required for updates;
the `X-Change-Reason` header is accepted instead).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

from access_programme.models import (
    Batch,
    Dispensing,
    Enrolment,
    Prescription,
    Product,
    Route,
    TreatmentCycle,
)
from registry.models import (
    CHANGE_REASON_MAX_LENGTH,
    SERIOUSNESS_CRITERION_FIELDS,
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    Patient,
    PatientIdentity,
    Site,
    WithdrawalLevel,
)
from registry.scoring import ITEM_FIELDS
from registry.selectors import patients_visible_to, records_visible_to, sites_visible_to

AUDIT_FIELDS = ("version", "reason", "created_at", "updated_at")


class _ScopedMixin:
    """A related field whose choices are what the requesting user may see (unknown ids → 400, not 403)."""

    context: dict[str, Any]

    def scope(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> models.QuerySet[Any]:
        request = self.context.get("request")
        queryset = super().get_queryset()  # type: ignore[misc]
        if request is None:
            return queryset.none()
        return self.scope(queryset)


class SafeSlugRelatedField(serializers.SlugRelatedField):
    """A slug lookup that refuses NUL characters, which PostgreSQL text cannot hold (a 500 otherwise)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class VisiblePatientField(_ScopedMixin, SafeSlugRelatedField):
    """A patient by pseudonymous study id, among the patients visible to the user."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Pseudonymous study id, e.g. GB-LON-0001.")
        super().__init__(slug_field="study_id", queryset=Patient.objects.all(), **kwargs)

    def scope(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return patients_visible_to(self.context["request"].user)


class VisibleSiteField(_ScopedMixin, SafeSlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", queryset=Site.objects.all(), **kwargs)

    def scope(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return sites_visible_to(self.context["request"].user)


class VisibleCycleField(_ScopedMixin, serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=TreatmentCycle.objects.all(), **kwargs)

    def scope(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return records_visible_to(self.context["request"].user, TreatmentCycle).select_related("patient")


class AuditedSerializer(serializers.ModelSerializer):
    """Adds the optimistic-locking version and the reason for change to a clinical record."""

    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Record version. Read it, and send it back unchanged when updating: if someone saved the "
        "record since, the update is refused with 409 Conflict. Ignored on create.",
    )
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=CHANGE_REASON_MAX_LENGTH,
        help_text="Reason for change, kept in the audit trail. Required to update; optional on create. "
        "The X-Change-Reason header may be sent instead.",
    )

    #: Fields that identify the record and may only be set when it is created.
    create_only: tuple[str, ...] = ("patient",)


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ("id", "code", "name", "country", "active")


class RouteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Route
        fields = ("id", "code", "name", "description")


class ProductSerializer(serializers.ModelSerializer):
    route: serializers.SlugRelatedField[Route] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Product
        fields = ("id", "code", "name", "route", "manufacturer", "is_unlicensed_special", "storage_conditions")


class DiagnosisInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Diagnosis
        exclude = ("id", "patient", "version", "created_at", "updated_at")


class ConsentInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = (
            "form_version",
            "consent_date",
            "consents_to_registry",
            "consents_to_data_sharing",
            "consents_to_future_contact",
        )


class PatientSerializer(AuditedSerializer):
    site = VisibleSiteField(help_text="Site code; you can register patients only at your own sites.")
    diagnosis = DiagnosisInputSerializer(
        write_only=True, required=False, help_text="Diagnosis and baseline; required to register a patient."
    )
    consent = ConsentInputSerializer(write_only=True, required=False, help_text="Consent; required to register.")
    create_only = ("site",)

    class Meta:
        model = Patient
        fields = ("id", "study_id", "site", "sex", "year_of_birth", "diagnosis", "consent", *AUDIT_FIELDS)
        read_only_fields = ("study_id",)


class IdentitySerializer(AuditedSerializer):
    patient = VisiblePatientField()

    class Meta:
        model = PatientIdentity
        fields = ("id", "patient", "given_name", "family_name", "date_of_birth", "nhs_number", *AUDIT_FIELDS)


class ConsentSerializer(AuditedSerializer):
    patient = VisiblePatientField()

    class Meta:
        model = Consent
        fields = (
            "id",
            "patient",
            "form_version",
            "consent_date",
            "consents_to_registry",
            "consents_to_data_sharing",
            "consents_to_future_contact",
            *AUDIT_FIELDS,
        )


class VisibleWithdrawalField(_ScopedMixin, serializers.PrimaryKeyRelatedField):
    """A withdrawal of a patient visible to the user (the one a correction corrects)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=ConsentWithdrawal.objects.all(), **kwargs)

    def scope(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return records_visible_to(self.context["request"].user, ConsentWithdrawal)


class ConsentWithdrawalSerializer(serializers.ModelSerializer):
    """A withdrawal of consent at a level from a date: append-only, created through `consent_withdraw`."""

    patient = VisiblePatientField()
    corrects = VisibleWithdrawalField(
        required=False,
        allow_null=True,
        help_text="To correct a withdrawal entered in error: its id. Give the right level and date, "
        "or an empty level if there was no withdrawal at all; the corrected record stays, no longer in force.",
    )
    level = serializers.ChoiceField(choices=WithdrawalLevel.choices, allow_blank=True)
    recorded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ConsentWithdrawal
        fields = ("id", "patient", "level", "effective_on", "reason", "corrects", "recorded_by", "recorded_at")
        read_only_fields = ("recorded_by", "recorded_at")


class DiagnosisSerializer(AuditedSerializer):
    patient = VisiblePatientField()

    class Meta:
        model = Diagnosis
        fields = (
            "id",
            "patient",
            *Diagnosis.RECORDED_FIELDS,
            *AUDIT_FIELDS,
        )


class AlsfrsrSerializer(AuditedSerializer):
    patient = VisiblePatientField()

    class Meta:
        model = AlsfrsrAssessment
        fields = (
            "id",
            "patient",
            "assessment_date",
            *ITEM_FIELDS,
            *AlsfrsrAssessment.DERIVED_FIELDS,
            *AUDIT_FIELDS,
        )
        read_only_fields = AlsfrsrAssessment.DERIVED_FIELDS


class BiomarkerSerializer(AuditedSerializer):
    patient = VisiblePatientField()
    reported_value = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=0, help_text="Result as reported by the laboratory."
    )
    reported_unit = serializers.CharField(
        max_length=8, help_text="Unit as reported (e.g. pg/mL, ng/L, ng/mL); converted to the canonical unit."
    )
    create_only = ("patient", "analyte")

    class Meta:
        model = BiomarkerResult
        fields = (
            "id",
            "patient",
            *BiomarkerResult.RECORDED_FIELDS,
            *AUDIT_FIELDS,
        )
        read_only_fields = ("value", "unit")


class EventSerializer(AuditedSerializer):
    patient = VisiblePatientField()

    class Meta:
        model = ClinicalEvent
        fields = ("id", "patient", "event_type", "event_date", "detail", *AUDIT_FIELDS)


class AdverseEventSerializer(AuditedSerializer):
    patient = VisiblePatientField()
    seriousness_criteria = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = AdverseEvent
        fields = (
            "id",
            "patient",
            "term",
            "onset_date",
            "resolution_date",
            "ctcae_grade",
            "serious",
            *SERIOUSNESS_CRITERION_FIELDS,
            "seriousness_criteria",
            "relatedness",
            "action_taken",
            "outcome",
            "meddra_llt_code",
            *AUDIT_FIELDS,
        )


class UnmetCriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class EnrolmentSerializer(AuditedSerializer):
    patient = VisiblePatientField()
    route = SafeSlugRelatedField(slug_field="code", queryset=Route.objects.all())
    unmet_criteria = UnmetCriterionSerializer(many=True, read_only=True)
    create_only = ("patient", "route", "enrolment_date")

    class Meta:
        model = Enrolment
        fields = (
            "id",
            "patient",
            "route",
            "enrolment_date",
            "first_dose_date",
            "treating_clinician",
            "meets_mirocals_criteria",
            "unmet_criteria",
            "eligibility_justification",
            *AUDIT_FIELDS,
        )
        read_only_fields = ("meets_mirocals_criteria",)


class CycleSerializer(AuditedSerializer):
    patient = VisiblePatientField()
    total_dose_miu = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Defaults to planned dose × days administered.",
    )
    create_only = ("patient", "cycle_number")

    class Meta:
        model = TreatmentCycle
        fields = (
            "id",
            "patient",
            "cycle_number",
            *TreatmentCycle.DOSING_FIELDS,
            *AUDIT_FIELDS,
        )


class BatchSerializer(AuditedSerializer):
    product = SafeSlugRelatedField(slug_field="code", queryset=Product.objects.all())
    create_only = ("product", "batch_number", "quantity_received")

    class Meta:
        model = Batch
        fields = (
            "id",
            "product",
            "batch_number",
            "expiry_date",
            "supplier",
            "manufacturer_licence",
            "received_on",
            "quantity_received",
            "quantity_remaining",
            "recipient_count",
            "quantity_unit",
            "dose_miu_per_unit",
            "max_hours_after_reconstitution",
            "storage_location",
            "status",
            "status_reason",
            "certificate_reference",
            *AUDIT_FIELDS,
        )
        read_only_fields = ("quantity_remaining", "recipient_count")


class DispensingSerializer(AuditedSerializer):
    patient: serializers.SlugRelatedField[Patient] = serializers.SlugRelatedField(slug_field="study_id", read_only=True)
    cycle = VisibleCycleField(help_text="Treatment cycle id (the patient is the cycle's).")
    batch = serializers.PrimaryKeyRelatedField(queryset=Batch.objects.all())
    prescription: serializers.PrimaryKeyRelatedField[Prescription] = serializers.PrimaryKeyRelatedField(
        read_only=True,
        help_text="The cycle's prescription the supply was made against (recorded and clinically checked in the "
        "pharmacy before the supply: a supply without one is refused).",
    )
    create_only = ("cycle", "batch")

    class Meta:
        model = Dispensing
        fields = (
            "id",
            "patient",
            "cycle",
            "batch",
            "dispensed_on",
            "quantity",
            "quantity_unit",
            "dose_miu_per_unit",
            "prescriber",
            "dispensed_by",
            "prescription",
            "days_supplied",
            "reconstituted_at",
            "beyond_use_at",
            "cold_chain_confirmed",
            "cold_chain_temperature_c",
            *AUDIT_FIELDS,
        )
        extra_kwargs = {"dispensed_by": {"required": False}}


# ---- errors -------------------------------------------------------------------------------------
class ErrorSerializer(serializers.Serializer):
    """The body of every error but validation: DRF's `{"detail": ...}`."""

    detail = serializers.CharField()


# ---- datasets -----------------------------------------------------------------------------------
class DatasetColumnSerializer(serializers.Serializer):
    column = serializers.CharField()
    type = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    definition = serializers.CharField()
    # A declared field: DRF's metaclass takes it off the class, so it never shadows Field.source.
    source = serializers.CharField()  # type: ignore[assignment]


class DatasetTableSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    csv_url = serializers.CharField()
    parquet_url = serializers.CharField()
    columns = DatasetColumnSerializer(many=True)


class DictionaryEntrySerializer(DatasetColumnSerializer):
    table = serializers.CharField()
