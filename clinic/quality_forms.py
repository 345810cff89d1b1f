"""Forms of the data-quality pages: raising a query, answering, closing and re-opening one."""

from __future__ import annotations

from django import forms

from registry.models import Severity


class QueryRaiseForm(forms.Form):
    record = forms.ChoiceField(label="Record")
    field_name = forms.CharField(
        label="Field (optional)",
        required=False,
        max_length=60,
        help_text="The field in question, by its name, e.g. q8_walking; leave empty for the whole record.",
    )
    severity = forms.ChoiceField(label="Severity", choices=Severity.choices, initial=Severity.MAJOR)
    message = forms.CharField(label="Question for the site", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, records: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["record"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = records


class QueryAnswerForm(forms.Form):
    answer = forms.CharField(label="Your answer", widget=forms.Textarea(attrs={"rows": 3}))


class QueryDecisionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the query's history. Needed to re-open, and to close a query the site has not answered.",
    )
