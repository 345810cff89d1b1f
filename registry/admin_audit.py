"""Admin plumbing shared by both apps: edits need a reason, clinical rows are never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from registry.services import audited_save


class ReasonForChangeForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for change",
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Required when editing an existing record; kept in the audit trail.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", "Give a reason for this change.")
        return cleaned


class AuditedAdmin(SimpleHistoryAdmin):
    """Data-manager admin for clinical models: audited saves, no deletion, history view."""

    form = ReasonForChangeForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        audited_save(obj, user=request.user, reason=form.cleaned_data.get("change_reason", ""))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets


def register_audited(model: Any, **options: Any) -> None:
    admin.site.register(model, type(f"{model.__name__}Admin", (AuditedAdmin,), options))
