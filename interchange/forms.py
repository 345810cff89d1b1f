"""The upload form: a .zip of the cohort, or its CSV files selected together."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from interchange import rif
from interchange.services import upload_name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Django's documented pattern for selecting several files in one input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".zip,.csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class CohortUploadForm(forms.Form):
    # A declared field: the form's metaclass takes it off the class, so it never shadows BaseForm.files.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Cohort files",
        help_text=(
            "A .zip of the cohort folder, or its CSV files selected together (patients.csv and any of "
            + ", ".join(spec.name for spec in rif.FILES if spec is not rif.PATIENTS)
            + "). UTF-8 CSV with a header row, as described in the interchange format."
        ),
    )

    def clean_files(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["files"]
        limit = settings.IMPORT_UPLOAD_MAX_BYTES
        if sum(f.size or 0 for f in files) > limit:
            raise forms.ValidationError(
                f"The upload is larger than {limit // (1024 * 1024)} MB. Import a cohort this large from the "
                "command line instead: python manage.py import_cohort PATH."
            )
        names = [upload_name(f) for f in files]
        if len(files) == 1 and names[0].lower().endswith(".zip"):
            return files
        not_csv = [name for name in names if not name.lower().endswith(".csv")]
        if not_csv:
            raise forms.ValidationError(f"Upload one .zip, or CSV files only ({', '.join(not_csv)} is neither).")
        if rif.PATIENTS.name not in names:
            raise forms.ValidationError("patients.csv is missing: every cohort needs it.")
        if len(set(names)) != len(names):
            raise forms.ValidationError("The same file name was selected twice.")
        return files
