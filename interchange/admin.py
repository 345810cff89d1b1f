"""Import runs in the admin: read-only receipts (who imported what, when, with what result)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from interchange.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "source_name",
        "created_by",
        "status",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_rejected",
    )
    list_filter = ("status",)
    search_fields = ("source_name",)
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False
