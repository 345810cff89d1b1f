"""The data managers' admin, an adapter like the web pages and the API: every save goes
through the record's service, so the admin keeps the same rules, audit and consequences.

The service runs as the form's last validation step (inside the admin's transaction), so a
refusal is shown on the form like any other error and validation runs once, in the service.
Clinical rows are never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import construct_instance
from django.http import Http404, HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from registry.models import ChangeReasonRequired, User
from registry.services import RecordServices, UpdateService

#: (actor, cleaned field values) -> the created record (the record's create service, adapted).
AdminCreate = Callable[[User | None, dict[str, Any]], models.Model]


class ServiceForm(forms.ModelForm):
    """A model form whose save is the record's service; set per request by `AuditedAdmin.get_form`."""

    change_reason = forms.CharField(
        label="Reason for change",
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Required when editing an existing record; kept in the audit trail.",
    )
    actor: User | None = None
    create_service: AdminCreate | None = None
    update_service: UpdateService | None = None

    def _post_clean(self) -> None:
        if self.errors:  # set by full_clean before _post_clean runs, so this does not validate again
            return
        opts = self._meta
        adding = self.instance._state.adding
        if adding:
            values = {name: value for name, value in self.cleaned_data.items() if name != "change_reason"}
        else:
            self.instance = construct_instance(self, self.instance, opts.fields, opts.exclude)
        try:
            if adding:
                if self.create_service is None:
                    raise PermissionDenied("Records of this kind are not created in the admin.")
                self.instance = self.create_service(self.actor, values)
            else:
                assert self.update_service is not None
                self.instance = self.update_service(
                    record=self.instance,
                    actor=self.actor,
                    reason=self.cleaned_data.get("change_reason", ""),
                    expected_version=None,
                )
        except ChangeReasonRequired as error:
            self.add_error("change_reason", error.messages)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]  # private BaseForm API, not in the stubs
        except PermissionDenied as error:
            self.add_error(None, str(error))


class AuditedAdmin(SimpleHistoryAdmin):
    """Data-manager admin for clinical models: saves through services, no deletion, history view."""

    form = ServiceForm
    create_service: AdminCreate | None = None

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        _require_id(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        _require_id(object_id)
        _require_id(version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    update_service: UpdateService | None = None

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request (modelform_factory)
        form.create_service = staticmethod(self.create_service) if self.create_service else None
        form.update_service = staticmethod(self.update_service) if self.update_service else None
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing left to do: the service saved the record when the form was validated."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.create_service is not None and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _require_id(value: object) -> None:
    """History pages of an object or a version named by anything but an id are a 404 (the
    history admin would pass the text to the database and fail with a 500)."""
    if not str(value).isascii() or not str(value).isdigit() or len(str(value)) > 18:
        raise Http404("No such record.")


def register_audited(model: type[models.Model], services: RecordServices, **options: Any) -> None:
    """Register `model` in the admin, saved through its services (no adding where `create` is None)."""
    create = services.create
    attrs = {
        "create_service": staticmethod(lambda actor, values: create(actor=actor, **values)) if create else None,
        "update_service": staticmethod(services.update),
    }
    admin.site.register(model, type(f"{model.__name__}Admin", (AuditedAdmin,), {**attrs, **options}))
