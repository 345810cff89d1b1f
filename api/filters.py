"""django-filter filter sets: by pseudonymous study id, site code, type and date ranges."""

from __future__ import annotations

import django_filters as filters

from access_programme.models import Batch, Dispensing, Enrolment, TreatmentCycle
from registry.models import (
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
)


class PatientRecordFilter(filters.FilterSet):
    """Common filters of patient-owned records."""

    patient = filters.CharFilter(field_name="patient__study_id", help_text="Study id, e.g. GB-LON-0001.")
    site = filters.CharFilter(field_name="patient__site__code", help_text="Site code, e.g. GB-LON.")


def _date_range(field: str) -> tuple[filters.DateFilter, filters.DateFilter]:
    return (
        filters.DateFilter(field_name=field, lookup_expr="gte", help_text=f"{field} on or after (YYYY-MM-DD)."),
        filters.DateFilter(field_name=field, lookup_expr="lte", help_text=f"{field} on or before (YYYY-MM-DD)."),
    )


class SiteFilter(filters.FilterSet):
    class Meta:
        model = Site
        fields = ("code", "country", "active")


class PatientFilter(filters.FilterSet):
    site = filters.CharFilter(field_name="site__code", help_text="Site code, e.g. GB-LON.")
    route = filters.CharFilter(field_name="enrolment__route__code", help_text="Route code.")

    class Meta:
        model = Patient
        fields = ("study_id", "site", "sex", "route")


class IdentityFilter(PatientRecordFilter):
    class Meta:
        model = PatientIdentity
        fields = ("patient", "site")


class ConsentFilter(PatientRecordFilter):
    class Meta:
        model = Consent
        fields = ("patient", "site", "consents_to_data_sharing")


class ConsentWithdrawalFilter(PatientRecordFilter):
    class Meta:
        model = ConsentWithdrawal
        fields = ("patient", "site", "level")


class DiagnosisFilter(PatientRecordFilter):
    class Meta:
        model = Diagnosis
        fields = ("patient", "site", "onset_region", "el_escorial")


class AlsfrsrFilter(PatientRecordFilter):
    assessed_from, assessed_to = _date_range("assessment_date")

    class Meta:
        model = AlsfrsrAssessment
        fields = ("patient", "site", "kings_stage", "mitos_stage")


class BiomarkerFilter(PatientRecordFilter):
    sampled_from, sampled_to = _date_range("sample_date")

    class Meta:
        model = BiomarkerResult
        fields = ("patient", "site", "analyte")


class EventFilter(PatientRecordFilter):
    date_from, date_to = _date_range("event_date")

    class Meta:
        model = ClinicalEvent
        fields = ("patient", "site", "event_type")


class AdverseEventFilter(PatientRecordFilter):
    onset_from, onset_to = _date_range("onset_date")

    class Meta:
        model = AdverseEvent
        fields = ("patient", "site", "serious", "ctcae_grade", "relatedness")


class EnrolmentFilter(PatientRecordFilter):
    route = filters.CharFilter(field_name="route__code", help_text="Route code.")

    class Meta:
        model = Enrolment
        fields = ("patient", "site", "route", "meets_mirocals_criteria")


class CycleFilter(PatientRecordFilter):
    started_from, started_to = _date_range("start_date")

    class Meta:
        model = TreatmentCycle
        fields = ("patient", "site", "cycle_number", "interrupted")


class BatchFilter(filters.FilterSet):
    product = filters.CharFilter(field_name="product__code", help_text="Product code.")

    class Meta:
        model = Batch
        fields = ("product", "batch_number", "status")


class DispensingFilter(PatientRecordFilter):
    dispensed_from, dispensed_to = _date_range("dispensed_on")
    batch_number = filters.CharFilter(field_name="batch__batch_number")

    class Meta:
        model = Dispensing
        fields = ("patient", "site", "cycle", "batch", "batch_number")
