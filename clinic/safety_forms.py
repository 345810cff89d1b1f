"""Forms of the safety pages: a case's assessment, a report sent, closing a case."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from registry.form_support import DATE
from registry.models import AeOutcome, SafetyCase

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SafetyCaseForm(forms.ModelForm):
    """The case's assessment; carries the version loaded and asks why it changed."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    change_reason = forms.CharField(label="Reason for change", max_length=200)

    aware_at = forms.DateTimeField(label="Awareness date and time", widget=DATETIME, input_formats=["%Y-%m-%dT%H:%M"])

    class Meta:
        model = SafetyCase
        fields = ["aware_at", "causality", "expectedness", "narrative", "company_is_sponsor"]
        widgets = {"aware_at": DATETIME, "narrative": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clock = self.instance.clock
        if clock.reference_safety_information:
            self.fields["expectedness"].help_text = f"Against: {clock.reference_safety_information}."

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.changed_data}


class SafetyReportForm(forms.Form):
    """A report as sent: when, the recipient's reference, the narrative and outcome it gave."""

    sent_at = forms.DateTimeField(label="Sent at", widget=DATETIME, input_formats=["%Y-%m-%dT%H:%M"])
    reference = forms.CharField(label="Reference of the report sent", max_length=60)
    outcome = forms.ChoiceField(label="Outcome at the time of the report", choices=AeOutcome.choices)
    narrative = forms.CharField(label="Narrative as sent", widget=forms.Textarea(attrs={"rows": 6}))
    unlicensed_stated = forms.BooleanField(
        label="The report states that the product is unlicensed (a special)", required=False
    )

    def __init__(self, *args: Any, case: SafetyCase, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sent_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        self.fields["narrative"].initial = case.narrative
        self.fields["outcome"].initial = case.adverse_event.outcome
        self.fields["reference"].help_text = (
            "The Yellow Card reference (for example GB-MHRA-ADR 12345678)."
            if case.clock.recipient == "yellow_card"
            else "The company's case number."
        )
        if not case.clock.unlicensed:
            del self.fields["unlicensed_stated"]


class SafetyCaseCloseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    change_reason = forms.CharField(label="Reason for closing", max_length=200)


class LineListingForm(forms.Form):
    route = forms.ChoiceField(
        choices=[("", "All routes"), ("managed_access", "Managed access programme"), ("nhs_specials", "NHS specials")],
        required=False,
    )
    start = forms.DateField(label="From (awareness)", widget=DATE)
    end = forms.DateField(label="To (awareness)", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The period ends before it starts.")
        return data
