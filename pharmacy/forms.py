"""Forms for the pharmacy pages: dispensing a cycle, receiving a batch, quarantine and recall.

As on the clinical side, the rules live in the models and services; these forms shape input
and offer only sensible choices (the batch picker lists usable batches, first expiry first).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone

from access_programme.models import Batch, BatchStatus, Prescription, Product
from registry.constants import DOSING_DAYS_PER_CYCLE, PROTOCOL_DAILY_DOSE_MIU
from registry.form_support import DATE, choice_field, model_choice_field
from registry.models import Site

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Batch) -> str:
        return (
            f"{obj.batch_number} – expires {obj.expiry_date:%d %b %Y} – "
            f"{obj.quantity_remaining} {obj.get_quantity_unit_display().lower()}(s) left, "
            f"{obj.dose_miu_per_unit.normalize():f} MIU each"
        )


class DispenseForm(forms.Form):
    """One cycle's supply. Reconstitution and beyond-use times are asked for specials only."""

    cycle_start_date = forms.DateField(
        label="Cycle start (day 1)",
        widget=DATE,
        help_text="The first administration day. Cycles are at least 28 days apart; a cycle may be dispensed "
        "up to the dispensing window before it starts.",
    )
    dispensed_on = forms.DateField(label="Date supplied", widget=DATE)
    batch = BatchChoiceField(
        queryset=Batch.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        help_text="Only usable batches are listed (in date, not quarantined or recalled, in stock), "
        "first expiry first.",
    )
    quantity = forms.IntegerField(min_value=1, initial=5, help_text="Protocol: one 2 MIU dose a day for 5 days.")
    days_supplied = forms.IntegerField(
        label="Days supplied",
        min_value=1,
        max_value=DOSING_DAYS_PER_CYCLE,
        initial=DOSING_DAYS_PER_CYCLE,
        help_text="Dosing days this supply covers; fewer than 5 is a part supply, completed later.",
    )
    dose_miu_per_unit = forms.DecimalField(
        label="Dose per unit (MIU)", max_digits=6, decimal_places=3, min_value=Decimal("0.001")
    )
    prescriber = forms.CharField(max_length=120, help_text="Name and professional registration number.")
    reconstituted_at = forms.DateTimeField(label="Reconstituted at", required=False, widget=DATETIME)
    beyond_use_at = forms.DateTimeField(
        label="Beyond-use time",
        required=False,
        widget=DATETIME,
        help_text="Within the limit on the batch's certificate, and not after the batch expires.",
    )
    cold_chain_confirmed = forms.BooleanField(label="Cold chain confirmed: stored at 2–8 °C throughout", required=False)
    cold_chain_temperature_c = forms.DecimalField(
        label="Fridge reading at supply (°C)", required=False, max_digits=4, decimal_places=1
    )

    def __init__(
        self,
        *args: Any,
        batches: list[Batch],
        special: bool,
        due: dt.date | None,
        prescriber: str = "",
        days_left: int = DOSING_DAYS_PER_CYCLE,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.special = special
        if due is None:  # completing a part-supplied cycle: its start is fixed
            del self.fields["cycle_start_date"]
        else:
            self.fields["cycle_start_date"].initial = due
        self.fields["days_supplied"].initial = days_left
        self.fields["quantity"].initial = days_left
        model_choice_field(self, "batch").queryset = Batch.objects.filter(pk__in=[b.pk for b in batches]).order_by(
            "expiry_date", "received_on", "batch_number"
        )
        self.fields["dispensed_on"].initial = timezone.localdate()
        self.fields["prescriber"].initial = prescriber
        self.fields["dose_miu_per_unit"].initial = batches[0].dose_miu_per_unit if batches else PROTOCOL_DAILY_DOSE_MIU
        if batches:
            self.fields["batch"].initial = batches[0].pk
        if not special:
            del self.fields["reconstituted_at"]
            del self.fields["beyond_use_at"]

    def dispensing_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "dispensed_on",
                "quantity",
                "days_supplied",
                "dose_miu_per_unit",
                "prescriber",
                "cold_chain_confirmed",
                "cold_chain_temperature_c",
            )
        }
        fields["quantity_unit"] = data["batch"].quantity_unit
        if self.special:
            fields["reconstituted_at"] = data.get("reconstituted_at")
            fields["beyond_use_at"] = data.get("beyond_use_at")
        return fields


class BatchReceiveForm(forms.ModelForm):
    """Goods in: a delivery received at one of the user's sites, against its delivery note."""

    site = forms.ModelChoiceField(label="Received at", queryset=Site.objects.none(), empty_label=None)
    delivery_note = forms.CharField(label="Delivery note", max_length=120)

    class Meta:
        model = Batch
        fields = [
            "product",
            "batch_number",
            "expiry_date",
            "received_on",
            "supplier",
            "manufacturer_licence",
            "certificate_reference",
            "quantity_received",
            "quantity_unit",
            "dose_miu_per_unit",
            "max_hours_after_reconstitution",
            "storage_location",
        ]
        widgets = {"expiry_date": DATE, "received_on": DATE}
        labels = {"dose_miu_per_unit": "Dose per unit (MIU)", "max_hours_after_reconstitution": "Beyond-use limit (h)"}

    def __init__(self, *args: Any, sites: models.QuerySet[Site] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "site").queryset = sites if sites is not None else Site.objects.none()
        model_choice_field(self, "product").queryset = Product.objects.order_by("code")
        model_choice_field(self, "product").empty_label = None
        self.initial["received_on"] = self.initial.get("received_on") or timezone.localdate()

    def _post_clean(self) -> None:
        # Stock starts full; the model checks it never exceeds what was received.
        self.instance.quantity_remaining = self.cleaned_data.get("quantity_received") or 0
        super()._post_clean()  # type: ignore[misc]  # BaseModelForm._post_clean: private, not in the stubs


STATUS_ACTIONS = [
    (BatchStatus.QUARANTINED, "Quarantine: hold the batch while a problem is investigated"),
    (BatchStatus.RECALLED, "Recall: the batch must not be used; patients who received it are listed"),
    (BatchStatus.AVAILABLE, "Release: make the batch available again"),
]


class BatchStatusForm(forms.Form):
    status = forms.ChoiceField(label="Action", choices=STATUS_ACTIONS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept with the batch and in its history."
    )
    confirm_recall = forms.BooleanField(
        label="I confirm the recall: every patient who received this batch will be flagged until a clinician "
        "acknowledges it",
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A recalled batch is never released: it offers no action at all.
        offered = [] if current == BatchStatus.RECALLED else [c for c in STATUS_ACTIONS if c[0] != current]
        choice_field(self, "status").choices = offered

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == BatchStatus.RECALLED and not data.get("confirm_recall"):
            self.add_error("confirm_recall", "Confirm the recall: it flags every patient who received the batch.")
        return data


class PrescriptionForm(forms.ModelForm):
    """The prescriber's order for the next cycle, as the pharmacy receives it."""

    class Meta:
        model = Prescription
        fields = [
            "prescribed_on",
            "prescriber",
            "dose_miu",
            "doses",
            "directions",
            "unsolicited_request",
            "special_need",
        ]
        widgets = {"prescribed_on": DATE, "special_need": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "dose_miu": "Dose (MIU)",
            "doses": "Doses in the cycle",
            "unsolicited_request": "The prescriber's unsolicited request for this patient (reg. 167) is held",
        }

    def __init__(self, *args: Any, special: bool, prescriber: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("prescribed_on", timezone.localdate())
        self.initial.setdefault("prescriber", prescriber)
        if not special:
            del self.fields["unsolicited_request"]
            del self.fields["special_need"]

    def _post_clean(self) -> None:
        pass  # the service validates the whole record once (patient, route, reg. 167)
