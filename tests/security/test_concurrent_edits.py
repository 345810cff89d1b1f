"""Two clinicians of one site edit the same record at the same moment, in two real sessions on
PostgreSQL: the first save is kept, the stale second one is refused with a message naming who
changed the record, and the audit trail holds the original and the first change only."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from registry import services
from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import SiteFactory, UserFactory, days_ago, treated_patient

pytestmark = [
    pytest.mark.requirement("AUD-03"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _fresh_connection_afterwards():
    """The threads' sessions end with their connections closed; start the next test on a new one."""
    yield
    connections.close_all()


@pytest.fixture
def scene():
    site = SiteFactory(code="GB-LON")
    patient = treated_patient(site=site)
    event = services.outcome_record(
        actor=None, patient=patient, event_type="niv_start", event_date=days_ago(10), detail="original"
    )
    ada = UserFactory(username="ada", first_name="Ada", last_name="First", role=Role.CLINICIAN, sites=[site])
    bob = UserFactory(username="bob", first_name="Bob", last_name="Second", role=Role.CLINICIAN, sites=[site])
    url = reverse("clinic:record_edit", args=[patient.study_id, "event", event.pk])
    return event, url, ada, bob


def _open_form(user, url: str) -> tuple[Client, dict[str, str]]:
    client = Client()
    login_with_second_factor(client, user)
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["form"]
    data = {name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields}
    return client, data


def _submit_together(posts: list[tuple[Client, str, dict[str, str]]]) -> list:
    """POST all at once from separate threads (each with its own database connection)."""
    barrier = threading.Barrier(len(posts))
    responses: list = [None] * len(posts)

    def run(index: int, client: Client, url: str, data: dict[str, str]) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = client.post(url, data)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_of_two_simultaneous_edits_of_one_record_the_stale_one_is_refused_and_the_first_is_kept(scene):
    event, url, ada, bob = scene
    ada_client, ada_form = _open_form(ada, url)
    bob_client, bob_form = _open_form(bob, url)
    assert ada_form["version"] == bob_form["version"] == str(event.version)

    ada_post = {**ada_form, "detail": "ada's change", "change_reason": "Transcription error"}
    bob_post = {**bob_form, "detail": "bob's change", "change_reason": "Clinic letter"}
    responses = _submit_together([(ada_client, url, ada_post), (bob_client, url, bob_post)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302, 409]
    winner, loser = ("ada", "bob") if responses[0].status_code == 302 else ("bob", "ada")
    refused = responses[1] if winner == "ada" else responses[0]
    winner_name = "Ada First" if winner == "ada" else "Bob Second"
    assert f"This record was changed by {winner_name}" in refused.content.decode()

    event.refresh_from_db()
    assert event.detail == f"{winner}'s change"
    assert event.version == 2
    details = list(event.history.order_by("history_date", "history_id").values_list("detail", flat=True))
    assert details == ["original", f"{winner}'s change"]
    assert f"{loser}'s change" not in details


def test_an_edit_from_a_form_opened_before_someone_else_saved_is_refused_with_409(scene):
    event, url, ada, bob = scene
    ada_client, ada_form = _open_form(ada, url)
    bob_client, bob_form = _open_form(bob, url)
    first = ada_client.post(url, {**ada_form, "detail": "ada's change", "change_reason": "Typo"})
    second = bob_client.post(url, {**bob_form, "detail": "bob's change", "change_reason": "Letter"})
    assert (first.status_code, second.status_code) == (302, 409)
    assert "This record was changed by Ada First" in second.content.decode()
    event.refresh_from_db()
    assert event.detail == "ada's change"
    assert event.history.count() == 2
