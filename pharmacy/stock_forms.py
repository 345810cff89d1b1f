"""Forms for stock accountability: transfers, patient returns, destruction, counts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils import timezone

from access_programme.models import Batch, Disposition, ReturnCondition
from access_programme.stock.services import FROM_RETURNS, FROM_STOCK
from registry.form_support import DATE, model_choice_field
from registry.models import Site

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class _SiteForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)

    def __init__(self, *args: Any, sites: models.QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "site").queryset = sites


class TransferForm(_SiteForm):
    to_site = forms.ModelChoiceField(label="To site", queryset=Site.objects.none(), empty_label=None)
    quantity = forms.IntegerField(min_value=1)
    transferred_on = forms.DateField(label="Transferred on", widget=DATE, initial=timezone.localdate)
    reference = forms.CharField(label="Transfer reference", max_length=120, required=False)

    def __init__(self, *args: Any, sites: models.QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, sites=sites, **kwargs)
        self.fields["site"].label = "From site"
        model_choice_field(self, "to_site").queryset = Site.objects.filter(active=True).order_by("code")


class DestroyForm(_SiteForm):
    source = forms.ChoiceField(
        label="Destroy from",
        choices=[(FROM_STOCK, "Stock on the shelf"), (FROM_RETURNS, "Patient returns held")],
        widget=forms.RadioSelect,
    )
    quantity = forms.IntegerField(min_value=1)
    method = forms.CharField(
        label="Method of destruction", max_length=200, help_text="E.g. denatured and placed in a cytotoxic sharps bin."
    )
    witness = forms.CharField(label="Witness", max_length=120, help_text="A second person who saw the destruction.")
    destroyed_on = forms.DateField(label="Destroyed on", widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CountForm(_SiteForm):
    counted = forms.IntegerField(label="Units counted", min_value=0)
    counted_on = forms.DateField(label="Counted on", widget=DATE, initial=timezone.localdate)


class ReturnForm(forms.Form):
    quantity = forms.IntegerField(label="Units returned", min_value=1)
    condition = forms.ChoiceField(choices=ReturnCondition.choices, widget=forms.RadioSelect)
    returned_on = forms.DateField(label="Returned on", widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ExplainForm(forms.Form):
    explanation = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ExplainRowForm(ExplainForm):
    """Explain a reconciliation row: the batch, the site and the figures the person saw."""

    batch = forms.IntegerField(widget=forms.HiddenInput)
    site = forms.IntegerField(widget=forms.HiddenInput)
    received = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    transferred_in = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    in_stock = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    dispensed = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    destroyed_from_stock = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    transferred_out = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ExcursionForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)
    batch = forms.ModelChoiceField(
        queryset=Batch.objects.none(), required=False, help_text="Leave empty for a fridge excursion."
    )
    fridge = forms.CharField(max_length=120, required=False, help_text="The fridge or store (its batches' location).")
    detected_at = forms.DateTimeField(label="Detected at", widget=DATETIME)
    detected_by = forms.CharField(label="Detected by", max_length=120)
    min_temperature_c = forms.DecimalField(label="Minimum temperature (°C)", max_digits=4, decimal_places=1)
    max_temperature_c = forms.DecimalField(label="Maximum temperature (°C)", max_digits=4, decimal_places=1)
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=1)

    def __init__(self, *args: Any, sites: models.QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "site").queryset = sites
        model_choice_field(self, "batch").queryset = Batch.objects.order_by("batch_number")


class DispositionForm(forms.Form):
    disposition = forms.ChoiceField(
        choices=[c for c in Disposition.choices if c[0] != Disposition.PENDING], widget=forms.RadioSelect
    )
    disposition_reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))
