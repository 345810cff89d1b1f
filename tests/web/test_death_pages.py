"""Death on the clinic pages: the record shows the patient deceased and closed, with its loose
ends; a fatal event leads to the death form; the death form asks about an adverse event cause;
the ALSFRS-R form refuses to drop the hidden item 5a/5b answer without a word."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from registry import services
from registry.models import AlsfrsrAssessment, ClinicalEvent
from tests.factories import NORMAL_ALSFRSR_ITEMS, days_ago, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(london):
    return treated_patient(site=london)


def url(name: str, patient, *args: Any) -> str:
    return reverse(f"clinic:{name}", args=[patient.study_id, *args])


def die(patient) -> None:
    services.outcome_record(actor=None, patient=patient, event_type="death", event_date=days_ago(10))


def test_a_deceased_patients_page_says_so_and_offers_no_new_entry(clinician_client, patient):
    die(patient)
    page = clinician_client.get(url("patient_detail", patient)).content.decode()
    assert "Deceased on" in page and "nothing dated after" in page
    assert ">Record ALSFRS-R</a>" not in page


def test_the_loose_ends_are_listed_with_the_way_to_settle_them(clinician_client, patient):
    event = services.adverse_event_record(
        actor=None,
        patient=patient,
        term="Dysphagia",
        onset_date=days_ago(30),
        ctcae_grade=2,
        relatedness="not_related",
        outcome="not_recovered",
    )
    die(patient)
    page = clinician_client.get(url("patient_detail", patient)).content.decode()
    assert "Dysphagia (onset" in page and url("record_edit", patient, "adverse-event", event.pk) in page
    assert "Record the final ALSFRS-R" in page


def test_a_patient_with_nothing_left_open_has_no_loose_ends(clinician_client, patient):
    services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(12), **NORMAL_ALSFRSR_ITEMS)
    die(patient)
    assert "No loose ends" in clinician_client.get(url("patient_detail", patient)).content.decode()


def test_the_final_alsfrsr_form_is_dated_on_the_day_of_death(clinician_client, patient):
    die(patient)
    form = clinician_client.get(url("alsfrsr_create", patient)).context["form"]
    assert form["assessment_date"].value() == days_ago(10)


FATAL = {
    "term": "Aspiration pneumonia",
    "onset_date": days_ago(4).isoformat(),
    "resolution_date": days_ago(2).isoformat(),
    "ctcae_grade": 5,
    "serious": "on",
    "criterion_death": "on",
    "relatedness": "not_related",
    "action_taken": "not_applicable",
    "outcome": "fatal",
}


def test_a_fatal_event_leads_to_the_death_form_filled_with_its_date_and_cause(clinician_client, patient):
    response = clinician_client.post(url("adverse_event_create", patient), FATAL)
    assert response.status_code == 302 and "event_type=death" in response.url
    form = clinician_client.get(response.url).context["form"]
    assert form["event_date"].value() == days_ago(2).isoformat()
    assert form["ae_caused_death"].value() == "yes"
    assert form["caused_by_adverse_event"].value() is not None


def test_the_death_recorded_from_the_fatal_event_links_it(clinician_client, patient):
    clinician_client.post(url("adverse_event_create", patient), FATAL)
    event = patient.adverse_events.get()
    response = clinician_client.post(
        url("event_create", patient),
        {
            "event_type": "death",
            "event_date": days_ago(2).isoformat(),
            "ae_caused_death": "yes",
            "caused_by_adverse_event": event.pk,
        },
    )
    assert response.status_code == 302
    assert ClinicalEvent.objects.get(patient=patient, event_type="death").caused_by_adverse_event == event


def test_the_death_form_asks_whether_an_adverse_event_caused_it(clinician_client, patient):
    response = clinician_client.post(
        url("event_create", patient), {"event_type": "death", "event_date": days_ago(2).isoformat()}
    )
    assert "Answer whether an adverse event caused the death." in response.content.decode()
    assert not ClinicalEvent.objects.filter(patient=patient).exists()


def test_a_malformed_link_to_the_death_form_is_ignored(clinician_client, patient):
    response = clinician_client.get(url("event_create", patient) + "?event_type=death&ae=abc")
    assert response.status_code == 200


def alsfrsr_post(gastrostomy: str, **items: int) -> dict[str, object]:
    data: dict[str, object] = {"assessment_date": days_ago(1).isoformat(), "gastrostomy": gastrostomy}
    data |= {name: value for name, value in {**NORMAL_ALSFRSR_ITEMS, **items}.items() if value is not None}
    return data


def test_an_answer_in_the_hidden_item_5b_is_not_dropped_without_a_word(clinician_client, patient):
    response = clinician_client.post(url("alsfrsr_create", patient), alsfrsr_post("no", q5b_cutting_with_gastrostomy=2))
    page = response.content.decode()
    assert "Item 5b (with gastrostomy) also holds an answer (2)" in page
    assert "Drop the answer of the item not scored" in page
    assert not AlsfrsrAssessment.objects.exists()


def test_the_hidden_answer_is_dropped_once_the_clinician_confirms(clinician_client, patient):
    data = alsfrsr_post("no", q5b_cutting_with_gastrostomy=2) | {"drop_hidden_item": "on"}
    assert clinician_client.post(url("alsfrsr_create", patient), data).status_code == 302
    assessment = AlsfrsrAssessment.objects.get()
    assert (assessment.q5a_cutting_without_gastrostomy, assessment.q5b_cutting_with_gastrostomy) == (4, None)


def test_the_live_score_warns_of_the_hidden_answer(clinician_client, patient):
    data = alsfrsr_post("yes", q5b_cutting_with_gastrostomy=3)  # 5a = 4 still ticked
    page = clinician_client.post(url("alsfrsr_score", patient), data).content.decode()
    assert "Item 5a (no gastrostomy) also holds an answer (4)" in page
