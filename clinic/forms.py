"""Forms for the clinicians' pages.

Forms collect and shape input; the rules stay in the models' clean() and the services, and a
ValidationError raised there is put back on the form next to the field it names
(`add_service_errors`). Edit forms carry the `version` the clinician loaded (a hidden field,
passed to the service as expected_version) and ask for a reason for change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from access_programme.eligibility import EligibilityInput, UnmetCriterion, age_in_years, unmet_mirocals_criteria
from access_programme.models import Route
from access_programme.selectors import SORTS, TIMELINE_KINDS, DueFilter, PatientStatus
from clinic.death_forms import death_answers, death_questions, hidden_item_message
from registry import scoring
from registry.form_support import DATE, EditFieldsMixin, choice_field, model_choice_field
from registry.models import (
    SERIOUSNESS_CRITERION_FIELDS,
    AdverseEvent,
    AlsfrsrAssessment,
    Analyte,
    ClinicalEvent,
    CtcaeGrade,
    Diagnosis,
    ElEscorial,
    OnsetRegion,
    Sex,
    Site,
    TriState,
    YesNoUnknown,
)
from registry.units import accepted_units

# --- patient list ------------------------------------------------------------------------


class PatientFilterForm(forms.Form):
    q = forms.CharField(label="Study id", required=False, widget=forms.TextInput(attrs={"type": "search"}))
    site = forms.ChoiceField(label="Site", required=False)
    route = forms.ChoiceField(label="Route", required=False)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any"), *PatientStatus.choices])
    due = forms.ChoiceField(label="Due", required=False, choices=[("", "Anything"), *DueFilter.choices])
    sort = forms.ChoiceField(
        label="Sort by", required=False, choices=[(key, label) for key, (label, _) in SORTS.items()]
    )

    def __init__(self, *args: Any, sites: list[Site], routes: list[Route], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "site").choices = [("", "All my sites"), *[(s.code, f"{s.code} {s.name}") for s in sites]]
        choice_field(self, "route").choices = [("", "Any"), *[(r.code, r.name) for r in routes]]

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}


class TimelineFilterForm(forms.Form):
    """The patient page's timeline, by kind of entry and between two dates."""

    kind = forms.ChoiceField(label="Kind", required=False)
    since = forms.DateField(label="From", required=False, widget=DATE)
    until = forms.DateField(label="To", required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "kind").choices = [("", "Everything"), *[(k, k) for k in TIMELINE_KINDS]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            raise forms.ValidationError("“To” is before “From”.")
        return cleaned


# --- enrolment ---------------------------------------------------------------------------


class EnrolmentForm(forms.Form):
    """Registration, identity, consent, diagnosis and route in one page, as at the clinic."""

    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)
    sex = forms.ChoiceField(choices=Sex.choices, widget=forms.RadioSelect)
    year_of_birth = forms.IntegerField(
        required=False, min_value=1900, help_text="Needed only if the date of birth is not given."
    )
    # Identity: stored encrypted, apart from the clinical data.
    given_name = forms.CharField(max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    family_name = forms.CharField(max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    date_of_birth = forms.DateField(required=False, widget=DATE)
    nhs_number = forms.CharField(
        label="NHS number", max_length=12, required=False, help_text="10 digits; checked with the modulus 11 rule."
    )
    # Consent
    form_version = forms.CharField(label="Consent form version", max_length=20, initial="v1.2")
    consent_date = forms.DateField(widget=DATE)
    consents_to_registry = forms.BooleanField(
        label="Consents to collection of clinical data in the registry",
        help_text="Registry participation requires it.",
    )
    consents_to_data_sharing = forms.BooleanField(
        label="Consents to sharing pseudonymised data with regulators and researchers", required=False, initial=True
    )
    consents_to_future_contact = forms.BooleanField(label="Consents to future contact", required=False)
    # Diagnosis and baseline
    symptom_onset_date = forms.DateField(widget=DATE)
    onset_region = forms.ChoiceField(choices=OnsetRegion.choices)
    diagnosis_date = forms.DateField(widget=DATE)
    el_escorial = forms.ChoiceField(label="El Escorial category (revised)", choices=ElEscorial.choices)
    riluzole_start_date = forms.DateField(required=False, widget=DATE, help_text="Leave empty if not on riluzole.")
    svc_percent = forms.DecimalField(label="SVC (% predicted)", required=False, max_digits=5, decimal_places=1)
    fvc_percent = forms.DecimalField(
        label="FVC at diagnosis (% predicted)",
        required=False,
        max_digits=5,
        decimal_places=1,
        help_text="The measurement nearest the diagnosis, not one at enrolment.",
    )
    alsfrsr_total_at_diagnosis = forms.IntegerField(
        label="ALSFRS-R total at diagnosis",
        required=False,
        min_value=0,
        max_value=48,
        help_text="If scored at diagnosis: gives ΔFS at diagnosis for the ENCALS model.",
    )
    weight_kg = forms.DecimalField(label="Weight (kg)", required=False, max_digits=5, decimal_places=1)
    c9orf72 = forms.ChoiceField(
        label="C9orf72 repeat expansion", required=False, choices=[("", "Not tested"), *TriState.choices]
    )
    ftd = forms.ChoiceField(label="Frontotemporal dementia", required=False, choices=[("", "—"), *YesNoUnknown.choices])
    # Programme
    route = forms.ModelChoiceField(queryset=Route.objects.order_by("code"), empty_label=None, widget=forms.RadioSelect)
    enrolment_date = forms.DateField(widget=DATE)
    first_dose_date = forms.DateField(
        required=False, widget=DATE, help_text="Day 1 of cycle 1; can be added later by the pharmacy."
    )
    treating_clinician = forms.CharField(max_length=120, required=False)
    eligibility_justification = forms.CharField(
        label="Justification for enrolling outside the MIROCALS criteria",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when a criterion is not met, e.g. the MDT discussion and expected benefit.",
    )

    IDENTITY = ("given_name", "family_name", "date_of_birth", "nhs_number")
    CONSENT = (
        "form_version",
        "consent_date",
        "consents_to_registry",
        "consents_to_data_sharing",
        "consents_to_future_contact",
    )
    DIAGNOSIS = Diagnosis.RECORDED_FIELDS

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "site").queryset = sites
        today = timezone.localdate()
        for name in ("consent_date", "enrolment_date"):
            self.fields[name].initial = today

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        born = data.get("date_of_birth")
        if born and not data.get("year_of_birth"):
            data["year_of_birth"] = born.year
        if not data.get("year_of_birth") and "year_of_birth" not in self.errors:
            self.add_error("year_of_birth", "Give the date of birth or at least the year of birth.")
        if any(data.get(name) for name in self.IDENTITY):
            # Identity is optional (some sites keep it only locally), but it is all or nothing.
            for name in ("given_name", "family_name", "date_of_birth"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Give the given name, family name and date of birth, or no identity at all.")
        if self.unmet_criteria() and not (data.get("eligibility_justification") or "").strip():
            self.add_error(
                "eligibility_justification", "Some MIROCALS criteria are not met: justify enrolling this patient."
            )
        return data

    def _value(self, name: str) -> Any:
        """A field's value from partial input (for the live check), None when missing or invalid."""
        if hasattr(self, "cleaned_data") and name in self.cleaned_data:
            return self.cleaned_data[name]
        field = self.fields[name]
        try:
            return field.clean(field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name)))
        except ValidationError:
            return None

    def eligibility_input(self) -> EligibilityInput:
        """The MIROCALS inputs as typed so far: the same rule the enrolment service records."""
        enrolment_date = self._value("enrolment_date") or timezone.localdate()
        born = self._value("date_of_birth")
        year = self._value("year_of_birth")
        if born:
            age: int | None = age_in_years(born, enrolment_date)
        else:
            age = enrolment_date.year - year - 1 if year else None
        return EligibilityInput(
            enrolment_date=enrolment_date,
            age_years=age,
            symptom_onset_date=self._value("symptom_onset_date"),
            svc_percent=self._value("svc_percent"),
            el_escorial=self._value("el_escorial") or None,
            riluzole_start_date=self._value("riluzole_start_date"),
        )

    def unmet_criteria(self) -> list[UnmetCriterion]:
        return unmet_mirocals_criteria(self.eligibility_input())

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        identity = {name: data[name] for name in self.IDENTITY if data.get(name)}
        return {
            "site": data["site"],
            "sex": data["sex"],
            "year_of_birth": data["year_of_birth"],
            "identity": identity or None,
            "consent": {name: data[name] for name in self.CONSENT},
            "diagnosis": {name: data[name] for name in self.DIAGNOSIS},
            "route": data["route"],
            "enrolment_date": data["enrolment_date"],
            "first_dose_date": data["first_dose_date"],
            "treating_clinician": data["treating_clinician"],
            "eligibility_justification": data["eligibility_justification"],
        }


# --- ALSFRS-R ----------------------------------------------------------------------------

GASTROSTOMY_CHOICES = [
    ("no", "No gastrostomy: score item 5a"),
    ("yes", "Gastrostomy: score item 5b"),
]


def _item_choices(name: str) -> list[tuple[int, str]]:
    return [(value, f"{value} – {wording}") for value, wording in scoring.ANSWER_WORDING[name].items()]


class AlsfrsrForm(forms.ModelForm):
    """The 12 items with the answer wording of the form (Cedarbaum 1999); 5a or 5b by gastrostomy."""

    gastrostomy = forms.ChoiceField(
        label="Does the patient have a gastrostomy?", choices=GASTROSTOMY_CHOICES, widget=forms.RadioSelect
    )
    drop_hidden_item = forms.BooleanField(label="Drop the answer of the item not scored", required=False)
    offer_drop = False

    class Meta:
        model = AlsfrsrAssessment
        fields = ["assessment_date", *scoring.ITEM_FIELDS]
        widgets = {"assessment_date": DATE}

    def __init__(self, *args: Any, gastrostomy: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in scoring.ITEM_FIELDS:
            self.fields[name] = forms.TypedChoiceField(
                label=scoring.ITEM_LABELS[name],
                choices=_item_choices(name),
                coerce=int,
                empty_value=None,
                required=name in scoring.REQUIRED_ITEM_FIELDS,
                widget=forms.RadioSelect,
                error_messages={"required": "Score this item."},
            )
        if self.instance.pk:
            gastrostomy = self.instance.q5b_cutting_with_gastrostomy is not None
        else:
            self.initial["assessment_date"] = timezone.localdate()
        self.fields["gastrostomy"].initial = "yes" if gastrostomy else "no"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        used, unused = (scoring.Q5B, scoring.Q5A) if data.get("gastrostomy") == "yes" else (scoring.Q5A, scoring.Q5B)
        if data.get(unused) is not None and not data.get("drop_hidden_item"):
            self.add_error("gastrostomy", hidden_item_message(used, unused, data[unused]))
            self.offer_drop = True
        data[unused] = None
        if data.get(used) is None and used not in self.errors:
            self.add_error(used, "Score this item.")
        return data

    def item_values(self) -> dict[str, int | None]:
        return {name: self.cleaned_data.get(name) for name in scoring.ITEM_FIELDS}

    def item_sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Items grouped by domain for the template (5a and 5b both present; CSS shows one)."""
        titles = {
            "bulbar": "Bulbar",
            "fine_motor": "Fine motor",
            "gross_motor": "Gross motor",
            "respiratory": "Respiratory",
        }
        return [(titles[d], [self[name] for name in items]) for d, items in scoring.DOMAINS.items()]


class AlsfrsrEditForm(EditFieldsMixin, AlsfrsrForm):
    pass


@dataclass(frozen=True)
class LiveScore:
    """Total and subscores of a partly filled ALSFRS-R, as shown while the clinician scores."""

    answered: int
    total: int
    domains: list[tuple[str, int, int]]  # (label, score so far, items answered of 3)
    complete: scoring.AlsfrsrScores | None
    hidden_answer: str = ""  # the warning when the item not scored (5a or 5b) holds an answer


def live_score(data: Any) -> LiveScore:
    """Sum what is answered so far; stages only when all 12 items are in (scoring.score's rule)."""
    gastrostomy = data.get("gastrostomy") == "yes"
    skip = scoring.Q5A if gastrostomy else scoring.Q5B
    values: dict[str, int | None] = {}
    for name in scoring.ITEM_FIELDS:
        raw = data.get(name)
        values[name] = int(raw) if name != skip and raw in {"0", "1", "2", "3", "4"} else None
    labels = {
        "bulbar": "Bulbar",
        "fine_motor": "Fine motor",
        "gross_motor": "Gross motor",
        "respiratory": "Respiratory",
    }
    domains = []
    for domain, items in scoring.DOMAINS.items():
        scored = [values[i] for i in items if i != skip and values[i] is not None]
        domains.append((labels[domain], sum(scored), len(scored)))  # type: ignore[arg-type]
    answered = sum(count for _, _, count in domains)
    complete = scoring.score(values) if not scoring.item_errors(values) else None
    used = scoring.Q5B if gastrostomy else scoring.Q5A
    hidden = data.get(skip)
    warning = hidden_item_message(used, skip, int(hidden)) if hidden in {"0", "1", "2", "3", "4"} else ""
    return LiveScore(answered, sum(score for _, score, _ in domains), domains, complete, warning)


# --- biomarkers, adverse events, clinical events, diagnosis, consent -----------------------

UNIT_CHOICES = sorted({unit for analyte in Analyte.values for unit in accepted_units(analyte)})


class BiomarkerForm(forms.Form):
    sample_date = forms.DateField(widget=DATE)
    analyte = forms.ChoiceField(choices=Analyte.choices)
    reported_value = forms.DecimalField(label="Result", min_value=Decimal(0), max_digits=14, decimal_places=4)
    reported_unit = forms.ChoiceField(
        label="Unit",
        choices=[(u, u) for u in UNIT_CHOICES],
        help_text="As reported by the laboratory; converted to the analyte's canonical unit (pg/mL or %).",
    )
    assay = forms.CharField(
        max_length=120,
        help_text="Kit or method, e.g. ProteinSimple Ella pNF-H: the MIROCALS pNFH strata depend on the assay.",
    )
    laboratory = forms.CharField(max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sample_date"].initial = timezone.localdate()


class BiomarkerEditForm(EditFieldsMixin, BiomarkerForm):
    pass


CTCAE_HELP = {
    1: "Mild; asymptomatic or mild symptoms; intervention not indicated",
    2: "Moderate; minimal, local or noninvasive intervention indicated; limiting instrumental ADL",
    3: "Severe or medically significant but not immediately life-threatening; hospitalisation indicated",
    4: "Life-threatening consequences; urgent intervention indicated",
    5: "Death related to AE",
}


class AdverseEventForm(forms.ModelForm):
    aware_at = forms.DateTimeField(
        label="Awareness date and time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
        help_text="For a serious event: when the site first knew of it. The reporting clock runs from here; "
        "empty means now.",
    )

    class Meta:
        model = AdverseEvent
        fields = [*AdverseEvent.KEY_FIELDS, *AdverseEvent.FOLLOW_UP_FIELDS]
        widgets = {
            "onset_date": DATE,
            "resolution_date": DATE,
            "ctcae_grade": forms.RadioSelect,
            "relatedness": forms.RadioSelect,
        }
        help_texts = {
            "serious": "Serious (ICH E2A) is not the same as severe (CTCAE grade). Data managers are alerted at once.",
            "meddra_llt_code": "Optional; only with a MedDRA licence.",
        }

    CRITERIA = SERIOUSNESS_CRITERION_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "ctcae_grade").choices = [
            (grade.value, f"{grade.label}: {CTCAE_HELP[grade.value]}") for grade in CtcaeGrade
        ]
        relatedness = choice_field(self, "relatedness")
        # The getter gives the normalised (value, label) pairs; the stubs type it as the setter's input.
        relatedness.choices = [c for c in relatedness.choices if c[0]]  # type: ignore[union-attr,index,misc]
        self.fields["serious"].label = "Serious adverse event"
        if not self.instance.pk:
            self.initial["onset_date"] = timezone.localdate()

    def core_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.Meta.fields if n not in self.CRITERIA and n != "serious"]

    def criteria_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.CRITERIA]

    def service_arguments(self) -> dict[str, Any]:
        """The event's fields and the awareness time, as the adverse event services take them."""
        return {name: self.cleaned_data[name] for name in ("aware_at", *self.Meta.fields)}


class AdverseEventEditForm(EditFieldsMixin, AdverseEventForm):
    pass


class ClinicalEventForm(forms.ModelForm):
    class Meta:
        model = ClinicalEvent
        fields = ["event_type", "event_date", "detail", "ae_caused_death", "caused_by_adverse_event"]
        widgets = {
            "event_date": DATE,
            "detail": forms.Textarea(attrs={"rows": 3}),
            "ae_caused_death": forms.RadioSelect,
        }
        help_texts = {"ae_caused_death": "For a death. Death from ALS progression is not an adverse event."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk and not self.initial.get("event_date"):
            self.initial["event_date"] = timezone.localdate()
        death_questions(self)

    def clean(self) -> dict[str, Any]:
        return death_answers(super().clean() or {}, self)


class ClinicalEventEditForm(EditFieldsMixin, ClinicalEventForm):
    pass


class DiagnosisEditForm(EditFieldsMixin, forms.ModelForm):
    class Meta:
        model = Diagnosis
        fields = Diagnosis.RECORDED_FIELDS
        widgets = {"symptom_onset_date": DATE, "diagnosis_date": DATE, "riluzole_start_date": DATE}
