"""One action, four paths: a clinical action entered through the web pages, the API, the admin or
an import gives the same outcome: the same record, an audit row naming who, the same
consequence (alert, query), or the same refusal with the same message (docs/architecture.md).

The world is the clean fixture cohort, imported; each test then takes one action on one of its
patients through each path. GB-LON-0002 died on 30 Jun 2025; GB-LON-0001 is alive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from access_programme.models import Enrolment, TreatmentCycle
from access_programme.selectors import dispensing_worklist
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    ClinicalRecord,
    DataQuery,
    Patient,
    Role,
    SafetyCase,
    SeriousAdverseEventAlert,
    User,
)
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory
from tests.interchange.conftest import CLEAN, read_cohort, run_import, write_cohort

pytestmark = [pytest.mark.requirement("DAT-02"), pytest.mark.django_db(transaction=False)]

ALIVE, DEAD = "GB-LON-0001", "GB-LON-0002"
DEATH_MESSAGE = "The patient died on 30 Jun 2025; nothing can be recorded after death."


@dataclass
class Outcome:
    """What a path answered: whether it saved, and every message it showed."""

    saved: bool
    text: str


@dataclass
class World:
    tmp: Path
    clinician: User
    pharmacist: User
    manager: User

    def patient(self, study_id: str) -> Patient:
        return Patient.objects.get(study_id=study_id)


@pytest.fixture
def world(tmp_path: Path, sites: Any) -> World:
    manager = UserFactory.create(username="dm", role=Role.DATA_MANAGER, email="dm@example.org", is_staff=True)
    manager.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["registry", "access_programme"])
    )
    result = run_import(CLEAN, user=manager)
    assert not result.errors
    return World(
        tmp=tmp_path,
        clinician=UserFactory.create(username="clin", role=Role.CLINICIAN, sites=[sites[0]]),
        pharmacist=UserFactory.create(username="pharm", role=Role.PHARMACIST, sites=[sites[0]]),
        manager=manager,
    )


# --- the four paths --------------------------------------------------------------------------
# Each takes the action in model terms (field -> value) and speaks its path's own format.


def _form_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else value


def _form(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _form_value(value) for name, value in values.items() if value is not False}


WEB_URLS = {
    AdverseEvent: "adverse-events/new/",
    AlsfrsrAssessment: "alsfrsr/new/",
    BiomarkerResult: "biomarkers/new/",
    ClinicalEvent: "events/new/",
}


def web(world: World, model: type[ClinicalRecord], study_id: str, values: dict[str, Any]) -> Outcome:
    client = Client()
    login_with_second_factor(client, world.clinician)
    response = client.post(f"/patients/{study_id}/{WEB_URLS[model]}", _form(values))
    if response.status_code == 302:
        return Outcome(True, "")
    return Outcome(False, " ".join(str(e) for errors in response.context["form"].errors.values() for e in errors))


API_URLS = {
    AdverseEvent: "adverse-events",
    AlsfrsrAssessment: "alsfrs-r",
    BiomarkerResult: "biomarkers",
    ClinicalEvent: "events",
    TreatmentCycle: "cycles",
}


def api(world: World, model: type[ClinicalRecord], study_id: str, values: dict[str, Any]) -> Outcome:
    client = APIClient()
    client.force_authenticate(world.pharmacist if model is TreatmentCycle else world.clinician)
    payload = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
    response = client.post(f"/api/v1/{API_URLS[model]}/", {"patient": study_id, **payload}, format="json")
    if response.status_code == 201:
        return Outcome(True, "")
    assert response.status_code == 400, response.content
    return Outcome(False, " ".join(str(m) for messages in response.json().values() for m in messages))


def admin(world: World, model: type[ClinicalRecord], study_id: str, values: dict[str, Any]) -> Outcome:
    client = Client()
    login_with_second_factor(client, world.manager)
    meta = model._meta
    data = {"patient": world.patient(study_id).pk, **_form(values), "change_reason": ""}
    response = client.post(f"/admin/{meta.app_label}/{meta.model_name}/add/", data)
    if response.status_code == 302:
        return Outcome(True, "")
    form = response.context["adminform"].form
    return Outcome(False, " ".join(str(e) for errors in form.errors.values() for e in errors))


def importing(rows: Callable[[str, dict[str, Any]], tuple[str, dict[str, str]]]) -> Callable[..., Outcome]:
    """The import path for one kind of record: `rows` writes the action as a row of its file."""

    def path(world: World, model: type[ClinicalRecord], study_id: str, values: dict[str, Any]) -> Outcome:
        files = read_cohort()
        name, row = rows(study_id, values)
        files[name].append(row)
        result = run_import(write_cohort(world.tmp / "again", files), user=world.manager)
        errors = [e for e in result.errors if e["file"] == name]
        return Outcome(not errors, " ".join(e["message"] for e in errors))

    return path


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def ae_row(study_id: str, values: dict[str, Any]) -> tuple[str, dict[str, str]]:
    criteria = [name.removeprefix("criterion_") for name, v in values.items() if name.startswith("criterion_") and v]
    row = {k: _text(v) for k, v in values.items() if not k.startswith("criterion_")}
    return "adverse_events.csv", {"patient_id": study_id, **row, "seriousness_criteria": ";".join(criteria)}


def event_row(study_id: str, values: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return "events.csv", {"patient_id": study_id, **{k: _text(v) for k, v in values.items()}}


def biomarker_row(study_id: str, values: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return "biomarkers.csv", {
        "patient_id": study_id,
        "sample_date": _text(values["sample_date"]),
        "analyte": values["analyte"],
        "value": _text(values["reported_value"]),
        "unit": values["reported_unit"],
        "assay": values["assay"],
    }


def cycle_row(study_id: str, values: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return "cycles.csv", {"patient_id": study_id, **{k: _text(v) for k, v in values.items()}}


def alsfrs_row(study_id: str, values: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return "alsfrs_r.csv", {"patient_id": study_id, **{k: _text(v) for k, v in values.items()}}


FOUR = {"web": web, "api": api, "admin": admin}


def paths(import_rows: Callable[..., tuple[str, dict[str, str]]], *, web_path: bool = True) -> list[Any]:
    chosen = {name: path for name, path in FOUR.items() if web_path or name != "web"}
    chosen["import"] = importing(import_rows)
    return [pytest.param(path, id=name) for name, path in chosen.items()]


# --- adverse events --------------------------------------------------------------------------


def serious_ae(**overrides: Any) -> dict[str, Any]:
    values = {
        "term": "Cellulitis at injection site",
        "onset_date": dt.date(2025, 4, 1),
        "resolution_date": dt.date(2025, 4, 12),
        "ctcae_grade": 3,
        "serious": True,
        "criterion_hospitalisation": True,
        "relatedness": "probable",
        "action_taken": "interrupted",
        "outcome": "recovered",
    }
    return {**values, **overrides}


@pytest.mark.requirement("CLN-03")
@pytest.mark.parametrize("path", paths(ae_row))
def test_a_serious_adverse_event_is_saved_audited_and_alerted_on_every_path(
    path, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = path(world, AdverseEvent, ALIVE, serious_ae())
    assert outcome.saved, outcome.text
    event = AdverseEvent.objects.get(term="Cellulitis at injection site")
    assert event.history.count() == 1 and event.history.get().history_user is not None
    assert SeriousAdverseEventAlert.objects.filter(adverse_event=event).count() == 1
    assert SafetyCase.objects.filter(adverse_event=event, status="open").count() == 1  # the clock runs
    assert [m.subject for m in mail.outbox] == [f"Serious adverse event: {ALIVE} – Cellulitis at injection site"]


@pytest.mark.parametrize("path", paths(ae_row))
def test_an_adverse_event_resolving_after_death_is_refused_on_every_path(path, world):
    late = serious_ae(onset_date=dt.date(2025, 6, 20), resolution_date=dt.date(2025, 7, 5))
    outcome = path(world, AdverseEvent, DEAD, late)
    assert not outcome.saved
    assert DEATH_MESSAGE in outcome.text
    assert not AdverseEvent.objects.filter(term="Cellulitis at injection site").exists()


# --- outcomes --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", paths(event_row))
def test_a_death_dated_before_recorded_care_is_refused_on_every_path(path, world):
    outcome = path(world, ClinicalEvent, ALIVE, {"event_type": "death", "event_date": dt.date(2025, 3, 1)})
    assert not outcome.saved
    assert "after this date of death" in outcome.text
    assert not ClinicalEvent.objects.filter(patient__study_id=ALIVE, event_type="death").exists()


@pytest.mark.parametrize("path", paths(event_row))
def test_a_loss_to_follow_up_takes_the_patient_off_the_dispensing_worklist_on_every_path(path, world):
    """The kept next due date is cleared by whichever path records the end of follow-up
    (access_programme.next_due; a death goes through the same services and loader)."""
    assert Enrolment.objects.get(patient__study_id=ALIVE).next_cycle_due is not None
    outcome = path(world, ClinicalEvent, ALIVE, {"event_type": "lost_to_follow_up", "event_date": dt.date(2025, 10, 2)})
    assert outcome.saved, outcome.text
    assert Enrolment.objects.get(patient__study_id=ALIVE).next_cycle_due is None
    worklist = dispensing_worklist(world.pharmacist, today=dt.date(2025, 10, 3), per_page=100)
    assert world.patient(ALIVE).pk not in worklist.page.object_list


@pytest.mark.parametrize("path", paths(event_row))
def test_an_event_before_symptom_onset_is_refused_on_every_path(path, world):
    outcome = path(world, ClinicalEvent, ALIVE, {"event_type": "niv_start", "event_date": dt.date(2024, 1, 1)})
    assert not outcome.saved
    assert "This date precedes symptom onset (10 Mar 2024)." in outcome.text


# --- biomarkers and ALSFRS-R -----------------------------------------------------------------


def pnfh(**overrides: Any) -> dict[str, Any]:
    values = {
        "sample_date": dt.date(2025, 7, 1),
        "analyte": "csf_pnfh",
        "reported_value": Decimal("2.4"),
        "reported_unit": "ng/mL",
        "assay": "ProteinSimple Ella pNF-H",
    }
    return {**values, **overrides}


@pytest.mark.parametrize("path", paths(biomarker_row))
def test_a_result_in_ng_per_ml_is_stored_in_pg_per_ml_on_every_path(path, world):
    outcome = path(world, BiomarkerResult, ALIVE, pnfh())
    assert outcome.saved, outcome.text
    result = BiomarkerResult.objects.get(patient__study_id=ALIVE, sample_date=dt.date(2025, 7, 1))
    assert (result.value, result.unit, result.reported_value) == (Decimal("2400"), "pg/mL", Decimal("2.4"))


@pytest.mark.parametrize("path", paths(biomarker_row))
def test_a_unit_the_analyte_does_not_take_is_refused_with_the_accepted_units_on_every_path(path, world):
    outcome = path(world, BiomarkerResult, ALIVE, pnfh(reported_unit="%"))
    assert not outcome.saved
    assert "use one of: pg/mL, ng/L, ng/mL" in outcome.text


def both_item_fives() -> dict[str, Any]:
    items = dict.fromkeys(
        [
            "q1_speech",
            "q2_salivation",
            "q3_swallowing",
            "q4_handwriting",
            "q5a_cutting_without_gastrostomy",
            "q5b_cutting_with_gastrostomy",
            "q6_dressing_hygiene",
            "q7_turning_in_bed",
            "q8_walking",
            "q9_climbing_stairs",
            "q10_dyspnoea",
            "q11_orthopnoea",
            "q12_respiratory_insufficiency",
        ],
        3,
    )
    return {"assessment_date": dt.date(2025, 7, 7), **items}


@pytest.mark.parametrize("path", paths(alsfrs_row, web_path=False))
def test_an_assessment_scoring_both_5a_and_5b_is_refused_on_every_path(path, world):
    # The web form offers one of 5a/5b (by the gastrostomy toggle), so this input cannot be typed there.
    outcome = path(world, AlsfrsrAssessment, ALIVE, both_item_fives())
    assert not outcome.saved
    assert "5a" in outcome.text and "5b" in outcome.text
    assert not AlsfrsrAssessment.objects.filter(assessment_date=dt.date(2025, 7, 7)).exists()


@pytest.mark.parametrize("path", paths(alsfrs_row))
def test_a_new_assessment_moves_the_next_alsfrsr_due_date_on_every_path(path, world):
    """The kept date (access_programme.next_due), which the patient list filters and sorts by,
    follows whichever path records the assessment: 91 days after the latest."""
    kept = Enrolment.objects.filter(patient__study_id=ALIVE)
    assert kept.get().next_alsfrsr_due == dt.date(2025, 7, 7)  # 91 days after 7 Apr 2025
    items = {name: value for name, value in both_item_fives().items() if name != "q5b_cutting_with_gastrostomy"}
    values = {**items, "assessment_date": dt.date(2025, 7, 14)}
    if path is web:  # the form asks first whether the patient has a gastrostomy (5a or 5b)
        values["gastrostomy"] = "no"
    outcome = path(world, AlsfrsrAssessment, ALIVE, values)
    assert outcome.saved, outcome.text
    assert kept.get().next_alsfrsr_due == dt.date(2025, 10, 13)


# --- cycles (the pharmacy's web page opens a cycle with its supply: see the dispensing tests) ---


@pytest.mark.parametrize("path", paths(cycle_row, web_path=False))
def test_doses_after_death_are_refused_on_every_path(path, world):
    late = {"cycle_number": 3, "start_date": dt.date(2025, 6, 28), "days_administered": 5, "total_dose_miu": "10"}
    outcome = path(world, TreatmentCycle, DEAD, {**late, "planned_dose_miu": "2", "interrupted": False})
    assert not outcome.saved
    assert DEATH_MESSAGE in outcome.text
    assert not TreatmentCycle.objects.filter(patient__study_id=DEAD, cycle_number=3).exists()


@pytest.mark.parametrize("path", paths(cycle_row, web_path=False))
def test_missed_doses_keep_the_cycle_and_raise_one_query_on_every_path(path, world):
    missed = {"cycle_number": 4, "start_date": dt.date(2025, 4, 14), "days_administered": 3, "total_dose_miu": "6"}
    outcome = path(world, TreatmentCycle, ALIVE, {**missed, "planned_dose_miu": "2", "interrupted": False})
    assert outcome.saved, outcome.text
    cycle = TreatmentCycle.objects.get(patient__study_id=ALIVE, cycle_number=4)
    query = DataQuery.objects.get(record_id=cycle.pk, rule="cycle_missed_doses")
    assert (query.field_name, query.rule) == ("interrupted", "cycle_missed_doses")
    assert query.message.startswith("2 dose(s) missed")


# --- an adverse event upgraded to serious on review ------------------------------------------

UPGRADE = {"ctcae_grade": 3, "serious": True, "criterion_hospitalisation": True}


def _reviewed_event() -> AdverseEvent:
    return AdverseEvent.objects.get(patient__study_id=ALIVE, term="Injection site reaction")


def _ae_form(event: AdverseEvent, **changes: Any) -> dict[str, Any]:
    fields = ["term", "onset_date", "resolution_date", "ctcae_grade", "serious", "relatedness", "action_taken"]
    fields += [
        "outcome",
        "meddra_llt_code",
        *(f.name for f in AdverseEvent._meta.fields if f.name.startswith("criterion_")),
    ]
    return _form({**{name: getattr(event, name) for name in fields}, **changes})


def upgrade_web(world: World) -> None:
    client = Client()
    login_with_second_factor(client, world.clinician)
    event = _reviewed_event()
    data = {**_ae_form(event, **UPGRADE), "version": event.version, "change_reason": "Admitted on review"}
    response = client.post(f"/patients/{ALIVE}/adverse-event/{event.pk}/edit/", data)
    assert response.status_code == 302


def upgrade_api(world: World) -> None:
    client = APIClient()
    client.force_authenticate(world.clinician)
    event = _reviewed_event()
    body = {**UPGRADE, "version": event.version, "reason": "Admitted on review"}
    assert client.patch(f"/api/v1/adverse-events/{event.pk}/", body, format="json").status_code == 200


def upgrade_admin(world: World) -> None:
    client = Client()
    login_with_second_factor(client, world.manager)
    event = _reviewed_event()
    data = {"patient": event.patient_id, **_ae_form(event, **UPGRADE), "change_reason": "Admitted on review"}
    assert client.post(f"/admin/registry/adverseevent/{event.pk}/change/", data).status_code == 302


def upgrade_import(world: World) -> None:
    files = read_cohort()
    row = next(r for r in files["adverse_events.csv"] if r["term"] == "Injection site reaction")
    row.update({"ctcae_grade": "3", "serious": "yes", "seriousness_criteria": "hospitalisation"})
    assert not run_import(write_cohort(world.tmp / "again", files), user=world.manager).errors


@pytest.mark.requirement("CLN-03")
@pytest.mark.parametrize(
    "upgrade",
    [
        pytest.param(upgrade_web, id="web"),
        pytest.param(upgrade_api, id="api"),
        pytest.param(upgrade_admin, id="admin"),
        pytest.param(upgrade_import, id="import"),
    ],
)
def test_an_adverse_event_made_serious_on_review_is_alerted_once_on_every_path(
    upgrade, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upgrade(world)
    event = _reviewed_event()
    assert event.serious and event.history.count() == 2
    assert SeriousAdverseEventAlert.objects.filter(adverse_event=event).count() == 1
    assert SafetyCase.objects.filter(adverse_event=event, status="open").count() == 1  # the clock runs
    assert [m.subject for m in mail.outbox] == [f"Serious adverse event: {ALIVE} – Injection site reaction"]
