"""The export log in the admin: read-only, it is an audit record."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import ExportLog


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    list_display = ("started_at", "username", "table", "file_format", "channel", "row_count", "completed")
    list_filter = ("channel", "table", "file_format", "completed")
    search_fields = ("username", "table", "destination")
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExportLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ExportLog | None = None) -> bool:
        return False
