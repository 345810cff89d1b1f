"""Clinical forms: ALSFRS-R, biomarkers, adverse events, events, consent; edits need a reason and a fresh version."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    SeriousAdverseEventAlert,
)
from registry.scoring import ANSWER_WORDING
from registry.services import audited_save
from tests.conftest import login_with_second_factor
from tests.factories import NORMAL_ALSFRSR_ITEMS, IdentityFactory, days_ago, treated_patient
from tests.web.conftest import assess, logged_in

pytestmark = [pytest.mark.requirement("DAT-01"), pytest.mark.django_db]


def url(name: str, patient, *args) -> str:
    return reverse(f"clinic:{name}", args=[patient.study_id, *args])


def alsfrsr_post(gastrostomy: str = "no", **items: int | None) -> dict[str, object]:
    data: dict[str, object] = {"assessment_date": days_ago(1).isoformat(), "gastrostomy": gastrostomy}
    for name, value in {**NORMAL_ALSFRSR_ITEMS, **items}.items():
        if value is not None:
            data[name] = value
    return data


SERIOUS_AE = {
    "term": "Aspiration pneumonia",
    "onset_date": days_ago(2).isoformat(),
    "ctcae_grade": 3,
    "serious": "on",
    "criterion_hospitalisation": "on",
    "relatedness": "not_related",
    "action_taken": "interrupted",
    "outcome": "recovering",
}


@pytest.fixture
def patient(london):
    return treated_patient(site=london)


def test_the_alsfrs_r_form_offers_every_answer_in_the_scales_wording(clinician_client, patient):
    content = clinician_client.get(url("alsfrsr_create", patient)).content.decode()
    for item, answers in ANSWER_WORDING.items():
        for score, wording in answers.items():
            assert f"{score} – {wording}".replace("'", "&#x27;") in content, (item, score)


def test_an_alsfrs_r_is_saved_with_its_derived_scores(clinician_client, patient):
    response = clinician_client.post(url("alsfrsr_create", patient), alsfrsr_post(q8_walking=2))
    assert response.status_code == 302
    assessment = AlsfrsrAssessment.objects.get(patient=patient)
    assert (assessment.total, assessment.gross_motor, assessment.kings_stage) == (46, 10, "1")


def test_with_a_gastrostomy_item_5b_is_scored_and_5a_dropped_once_confirmed(clinician_client, patient):
    data = alsfrsr_post("yes", q5b_cutting_with_gastrostomy=3)  # 5a=4 still ticked, now hidden
    clinician_client.post(url("alsfrsr_create", patient), {**data, "drop_hidden_item": "on"})
    assessment = AlsfrsrAssessment.objects.get(patient=patient)
    assert (assessment.q5a_cutting_without_gastrostomy, assessment.q5b_cutting_with_gastrostomy) == (None, 3)
    assert assessment.kings_stage == "4A"


def test_a_missing_item_is_reported_next_to_it_and_nothing_saved(clinician_client, patient):
    data = alsfrsr_post()
    del data["q3_swallowing"]
    response = clinician_client.post(url("alsfrsr_create", patient), data)
    assert 'id="id_q3_swallowing_error"' in response.content.decode()
    assert not AlsfrsrAssessment.objects.exists()


def test_the_live_score_sums_the_items_answered_so_far(clinician_client, patient):
    response = clinician_client.post(url("alsfrsr_score", patient), {"q1_speech": 3, "q2_salivation": 4})
    content = response.content.decode()
    assert '<span class="big" data-testid="alsfrsr-total">7</span>' in content and "2 of 12" in content


def test_the_live_score_gives_stages_once_complete(clinician_client, patient):
    content = clinician_client.post(url("alsfrsr_score", patient), alsfrsr_post(q10_dyspnoea=0)).content.decode()
    assert "King's stage <strong>4B</strong>" in content


def test_a_biomarker_is_converted_to_the_canonical_unit(clinician_client, patient):
    data = {
        "sample_date": days_ago(3).isoformat(),
        "analyte": "csf_pnfh",
        "reported_value": "1.8",
        "reported_unit": "ng/mL",
        "assay": "Ella",
    }
    assert clinician_client.post(url("biomarker_create", patient), data).status_code == 302
    assert BiomarkerResult.objects.get().value == Decimal("1800")


def test_a_serious_adverse_event_alerts_the_data_managers_at_once(
    clinician_client, patient, data_manager, mailoutbox, django_capture_on_commit_callbacks
):
    IdentityFactory(patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        clinician_client.post(url("adverse_event_create", patient), SERIOUS_AE)
    alert = SeriousAdverseEventAlert.objects.get()
    assert alert.adverse_event.patient == patient and alert.is_open
    assert mailoutbox[0].to == ["erin@example.org"] and patient.study_id in mailoutbox[0].subject


def test_the_alert_mail_carries_no_identity(
    clinician_client, patient, data_manager, mailoutbox, django_capture_on_commit_callbacks
):
    IdentityFactory(patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        clinician_client.post(url("adverse_event_create", patient), SERIOUS_AE)
    assert "Testperson" not in mailoutbox[0].body and "Margaret" not in mailoutbox[0].body


def test_a_non_serious_adverse_event_raises_no_alert(clinician_client, patient):
    data = {k: v for k, v in SERIOUS_AE.items() if k not in ("serious", "criterion_hospitalisation")}
    clinician_client.post(url("adverse_event_create", patient), {**data, "ctcae_grade": 1})
    assert AdverseEvent.objects.count() == 1 and not SeriousAdverseEventAlert.objects.exists()


def test_data_managers_see_and_acknowledge_alerts(clinician_client, patient, data_manager):
    clinician_client.post(url("adverse_event_create", patient), SERIOUS_AE)
    client = logged_in(data_manager)
    login_with_second_factor(client, data_manager)
    assert patient.study_id in client.get(reverse("clinic:sae_alerts")).content.decode()
    alert = SeriousAdverseEventAlert.objects.get()
    client.post(reverse("clinic:sae_alert_acknowledge", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.acknowledged_by == data_manager


def test_clinicians_cannot_open_the_alerts_page(clinician_client):
    assert clinician_client.get(reverse("clinic:sae_alerts")).status_code == 403


def test_a_clinical_event_is_recorded(clinician_client, patient):
    data = {"event_type": "gastrostomy", "event_date": days_ago(5).isoformat(), "detail": "RIG"}
    clinician_client.post(url("event_create", patient), data)
    assert ClinicalEvent.objects.get(patient=patient).event_type == "gastrostomy"


def test_a_gastrostomy_makes_the_next_alsfrs_r_offer_item_5b(clinician_client, patient):
    data = {"event_type": "gastrostomy", "event_date": days_ago(5).isoformat()}
    clinician_client.post(url("event_create", patient), data)
    form = clinician_client.get(url("alsfrsr_create", patient)).context["form"]
    assert ClinicalEvent.objects.filter(patient=patient).exists()
    assert form["gastrostomy"].value() == "yes"


def test_consent_withdrawal_is_recorded_with_its_reason_and_who_took_it(clinician_client, clinician, patient):
    audited_save(Consent(patient=patient, form_version="v1.2", consent_date=days_ago(90)), actor=None)
    data = {"effective_on": days_ago(1).isoformat(), "level": "no_further_collection", "reason": "Moving abroad"}
    clinician_client.post(url("consent_withdraw", patient), data)
    withdrawal = ConsentWithdrawal.objects.get(patient=patient)
    assert (withdrawal.level, withdrawal.effective_on, withdrawal.reason) == (
        "no_further_collection",
        days_ago(1),
        "Moving abroad",
    )
    assert withdrawal.recorded_by == clinician
    assert withdrawal.history.get().history_change_reason.endswith("abroad")


def edit_diagnosis(client, patient, version: int, reason: str = "Letter from neurologist", region: str = "bulbar"):
    d = patient.diagnosis
    data = {
        "symptom_onset_date": d.symptom_onset_date.isoformat(),
        "onset_region": region,
        "diagnosis_date": d.diagnosis_date.isoformat(),
        "el_escorial": d.el_escorial,
        "version": version,
        "change_reason": reason,
    }
    return client.post(url("record_edit", patient, "diagnosis", d.pk), data)


def test_an_edit_without_a_reason_is_refused_next_to_the_reason_field(clinician_client, patient):
    response = edit_diagnosis(clinician_client, patient, version=1, reason="")
    assert 'id="id_change_reason_error"' in response.content.decode()
    assert Diagnosis.objects.get(pk=patient.diagnosis.pk).onset_region == "lower_limb"


def test_a_stale_edit_is_refused_with_409_and_nothing_overwritten(clinician_client, patient):
    assert edit_diagnosis(clinician_client, patient, version=1).status_code == 302
    response = edit_diagnosis(clinician_client, patient, version=1, region="upper_limb", reason="Clinic notes")
    assert response.status_code == 409 and "after you opened it" in response.content.decode()
    assert Diagnosis.objects.get(pk=patient.diagnosis.pk).onset_region == "bulbar"


def test_the_history_page_shows_who_changed_what_and_why(clinician_client, patient):
    edit_diagnosis(clinician_client, patient, version=1)
    d = patient.diagnosis
    content = clinician_client.get(url("record_history", patient, "diagnosis", d.pk)).content.decode()
    assert "Letter from neurologist" in content and "Alice Hughes" in content and "Bulbar" in content


def test_an_alsfrs_r_edit_recomputes_the_total(clinician_client, patient):
    assessment = assess(patient, days_ago(20))
    data = {**alsfrsr_post(q1_speech=2), "assessment_date": days_ago(20).isoformat()}
    data.update(version=assessment.version, change_reason="Item 1 mis-scored")
    clinician_client.post(url("record_edit", patient, "alsfrsr", assessment.pk), data)
    assert AlsfrsrAssessment.objects.get(pk=assessment.pk).total == 46


def test_analysts_cannot_open_the_forms(analyst, patient):
    assert logged_in(analyst).get(url("alsfrsr_create", patient)).status_code == 403
