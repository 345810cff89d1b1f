"""Encrypted model fields for direct identifiers.

Encrypted columns cannot be searched, so identifiers that need exact-match lookup get a
keyed hash beside them (see registry.crypto.blind_index). Historical (audit) tables copy
these field classes, so the audit trail stores ciphertext too, never plaintext.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db import models
from django.db.models.expressions import Combinable

from registry.crypto import decrypt, encrypt


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; decrypted on load with any configured key."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(str(value))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | dt.date | None:
        if value is None or value == "":
            return value
        return decrypt(value)


class EncryptedDateField(EncryptedTextField):
    """A date stored encrypted as its ISO text."""

    # django-stubs reads these for the model attribute's type (a date, set from a date or ISO text);
    # they are the stubs' hook for custom fields, so narrowing TextField's declaration is the point.
    _pyi_private_set_type: dt.date | str | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: dt.date  # type: ignore[assignment]

    def to_python(self, value: Any) -> dt.date | None:
        if value in (None, "") or isinstance(value, dt.date):
            return value or None
        return dt.date.fromisoformat(str(value))

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, dt.date):
            value = value.isoformat()
        return super().get_prep_value(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dt.date | None:
        text = super().from_db_value(value, expression, connection)
        return dt.date.fromisoformat(str(text)) if text else None

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        # Field.formfield, not TextField's (which would add a Textarea): a date input.
        return super(models.TextField, self).formfield(
            form_class=form_class or forms.DateField, choices_form_class=choices_form_class, **kwargs
        )
