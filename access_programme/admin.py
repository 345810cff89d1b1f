from django.contrib import admin

from access_programme.models import Batch, Dispensing, Enrolment, Product, Route, TreatmentCycle
from access_programme.services import RECORD_SERVICES
from registry.admin_audit import register_audited


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "route", "manufacturer", "is_unlicensed_special")


register_audited(
    Batch,
    RECORD_SERVICES[Batch],
    list_display=("batch_number", "product", "expiry_date", "quantity_remaining", "status"),
    list_filter=("product", "status"),
    search_fields=("batch_number",),
    readonly_fields=("quantity_remaining", "recipient_count", "status", "status_reason"),  # by dispensing, recall
)
register_audited(
    Enrolment,
    RECORD_SERVICES[Enrolment],
    list_display=("patient", "route", "enrolment_date", "first_dose_date", "meets_mirocals_criteria"),
    list_filter=("route", "meets_mirocals_criteria"),
    search_fields=("patient__study_id",),
    readonly_fields=("meets_mirocals_criteria", "unmet_criteria"),
)
register_audited(
    TreatmentCycle,
    RECORD_SERVICES[TreatmentCycle],
    list_display=("patient", "cycle_number", "start_date", "days_administered", "interrupted"),
    search_fields=("patient__study_id",),
)
register_audited(
    Dispensing,
    RECORD_SERVICES[Dispensing],
    list_display=("patient", "dispensed_on", "batch", "quantity", "dispensed_by"),
    search_fields=("patient__study_id", "batch__batch_number"),
    exclude=("patient", "dispensed_by_user"),  # the cycle's patient; the user who saves it
)
