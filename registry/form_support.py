"""Form glue shared by every web adapter (clinic, pharmacy, interchange).

Forms collect and shape input; the rules stay in the models and services. A ValidationError a
service raises is put back on the form next to the field it names (`add_service_errors`).
Edit forms carry the `version` the editor loaded and ask for a reason for change.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from registry.models import CHANGE_REASON_MAX_LENGTH

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class EditFieldsMixin(forms.Form):
    """The two fields every edit has: the version loaded (optimistic locking) and the reason."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    change_reason = forms.CharField(
        label="Reason for change",
        max_length=CHANGE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail with your name and the time, e.g. “Transcription error in clinic letter”.",
    )


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's choice field `name`, typed as one (so its choices can be set)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field.")
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's model choice field `name`, typed as one (so its queryset can be set)."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a model choice field.")
    return field
