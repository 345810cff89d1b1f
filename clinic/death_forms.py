"""What a death adds to the clinical event form, and the ALSFRS-R item 5a/5b warning.

The death form asks whether an adverse event caused the death (a death needs none: death from
ALS progression is not an adverse event) and which; the model's rules check the answer
(`registry.models.events.cause_of_death_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms

from registry import scoring
from registry.form_support import model_choice_field
from registry.models import AdverseEvent, EventType, YesNoUnknown


def death_questions(form: forms.ModelForm) -> None:
    """Offer the patient's own adverse events, fatal ones first, as the possible cause."""
    patient_id = getattr(form.instance, "patient_id", None)
    field = model_choice_field(form, "caused_by_adverse_event")
    events = AdverseEvent.objects.filter(patient_id=patient_id) if patient_id else AdverseEvent.objects.none()
    field.queryset = events.order_by("-ctcae_grade", "-onset_date")
    field.required = False
    choices = form.fields["ae_caused_death"]
    if isinstance(choices, forms.ChoiceField):
        choices.choices = list(YesNoUnknown.choices)  # a radio list without the empty choice


def death_answers(data: dict[str, Any], form: forms.ModelForm) -> dict[str, Any]:
    """A death answers the question; any other event leaves it empty."""
    if data.get("event_type") == EventType.DEATH:
        if not data.get("ae_caused_death"):
            form.add_error("ae_caused_death", "Answer whether an adverse event caused the death.")
    else:
        data["ae_caused_death"] = ""
        data["caused_by_adverse_event"] = None
    return data


def hidden_item_message(used: str, unused: str, value: int) -> str:
    """The warning when the item the gastrostomy answer hides still holds an answer."""
    short = {scoring.Q5A: "5a (no gastrostomy)", scoring.Q5B: "5b (with gastrostomy)"}
    return (
        f"Item {short[unused]} also holds an answer ({value}), which saving would drop because item "
        f"{short[used]} is the one scored. Check the gastrostomy answer; to drop item "
        f"{short[unused]}'s answer, tick “Drop the answer of the item not scored” and save again."
    )
