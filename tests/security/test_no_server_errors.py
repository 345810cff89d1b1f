"""No 5xx from input (issue 14, item 7): each server error found by the attack test, fixed at
its cause, and a crawl of every URL of the URL conf, as every role, with malformed parameters,
NUL bytes, oversize values and odd Unicode, that finds no 5xx."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient
from simple_history.models import HistoricalChanges

from analytics.survival.models import Benchmark
from api.parsers import json_depth
from interchange.models import ImportRun
from interchange.services import import_run_issues
from registry.form_support import EditFieldsMixin
from registry.models import CHANGE_REASON_MAX_LENGTH, AccountAction, AccountEvent, AdverseEvent, Role
from registry.services import adverse_event_record
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory, days_ago
from tests.interchange.conftest import CLEAN
from tests.security._matrix import _walk

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    login_with_second_factor(client, user)
    return client


@pytest.fixture
def adverse_event(world) -> AdverseEvent:
    return adverse_event_record(
        actor=None,
        patient=world.london_patient,
        term="Headache",
        onset_date=days_ago(3),
        ctcae_grade=1,
        relatedness="possible",
    )


# --- the change reason: the forms and the API allow what the audit column holds ----------------


def test_the_change_reason_limit_of_forms_and_api_is_the_length_of_every_audit_column():
    history_models = [m for m in django_models() if issubclass(m, HistoricalChanges)]
    assert history_models
    lengths = {m._meta.get_field("history_change_reason").max_length for m in history_models}
    assert lengths == {CHANGE_REASON_MAX_LENGTH}
    assert EditFieldsMixin.base_fields["change_reason"].max_length == CHANGE_REASON_MAX_LENGTH


def django_models() -> list[type[models.Model]]:
    from django.apps import apps

    return list(apps.get_models())


def test_an_api_update_with_an_overlong_reason_is_a_400_naming_the_limit(world, adverse_event):
    client = APIClient()
    client.force_authenticate(world.clinician_london)
    url = f"/api/v1/adverse-events/{adverse_event.pk}/"
    response = client.patch(url, {"term": "Migraine", "version": 1, "reason": "x" * 101}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    header = client.patch(url, {"term": "Migraine", "version": 1}, format="json", HTTP_X_CHANGE_REASON="y" * 300)
    assert header.status_code == 400
    assert AdverseEvent.objects.get(pk=adverse_event.pk).term == "Headache"


# --- the API -----------------------------------------------------------------------------------


def test_deeply_nested_json_is_a_400_not_a_recursion_error(world):
    client = APIClient()
    client.force_authenticate(world.clinician_london)
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/adverse-events/", body, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "depth"),
    [(b'{"a": [1, {"b": "[[["}]}', 3), (rb'"\"[["', 0), (rb'["a\\", [1]]', 2), (b"[]", 1), (b"7", 0)],
)
def test_the_json_depth_counts_brackets_outside_strings_only(body, depth):
    assert json_depth(body) == depth


@pytest.mark.parametrize("cursor", ["cD1hYmM=", "cD0lMDA=", "cD0tMQ==", "cj0xJnA9OTk5OTk5OTk5OTk5OTk5OTk5OTk5"])
def test_an_invalid_api_cursor_is_a_404_not_a_server_error(world, cursor):
    client = APIClient()
    client.force_authenticate(world.clinician_london)
    response = client.get("/api/v1/adverse-events/", {"cursor": cursor})
    assert response.status_code == 404


# --- web pages ---------------------------------------------------------------------------------


def test_a_benchmark_saved_without_points_is_kept_with_an_empty_list(world):
    client = signed_in(world.analyst)
    response = client.post(
        reverse("survival:benchmarks"),
        {
            "code": "hr-test",
            "trial": "MIROCALS",
            "label": "Hazard ratio, test",
            "kind": "hazard_ratio",
            "arm": "il2ld",
            "stratum": "all",
            "comparison": "unadjusted",
            "value": "0.5",
            "provenance": "confirmed",
            "source": "https://example.org/paper",
            "points": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert Benchmark.objects.get(code="hr-test").points == []


@pytest.mark.parametrize("url", ["/patients/?q=%00", "/patients/GB%00LON/", "/api/v1/patients/?study_id=%00", "/%00"])
def test_a_nul_byte_in_a_url_is_a_400(world, url):
    assert signed_in(world.clinician_london).get(url).status_code == 400


def test_an_api_request_refused_for_a_nul_byte_gets_a_json_body_as_the_schema_promises(world):
    response = signed_in(world.clinician_london).get("/api/v1/adverse-events/?term=%00")
    assert (response.status_code, response["Content-Type"]) == (400, "application/json")
    assert "detail" in response.json()


def test_deleting_a_user_in_the_admin_deactivates_them_with_a_clear_message(world):
    root = UserFactory(username="root", role=Role.DATA_MANAGER, is_superuser=True, is_staff=True)
    client = signed_in(root)
    target = world.clinician_london
    url = reverse("admin:registry_user_delete", args=[target.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    target.refresh_from_db()
    assert get_user_model().objects.filter(pk=target.pk).exists() and not target.is_active
    shown = [str(m) for m in response.context["messages"]]
    assert any("deactivated instead" in m for m in shown) and not any("deleted successfully" in m for m in shown)
    assert AccountEvent.objects.filter(subject=target, action=AccountAction.USER_DEACTIVATED).count() == 1


def test_an_eager_upload_holding_a_nul_byte_finishes_with_a_file_error(
    world, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = signed_in(world.data_manager)
    files = [
        SimpleUploadedFile(path.name, path.read_bytes() + (b"\x00\n" if path.name == "events.csv" else b""))
        for path in sorted(CLEAN.glob("*.csv"))
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("interchange:upload"), {"files": files})
    assert response.status_code in (200, 302)
    run = ImportRun.objects.get()
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    messages = [issue["message"] for issue in import_run_issues(run)]
    assert any("events.csv holds a NUL byte" in message for message in messages), messages
    assert run.rows_created > 0


# --- the crawl: every URL, every role, hostile parameters -----------------------------------------

HOSTILE_VALUES = [
    "0",
    "99999999999999999999999",
    "x" * 2000,
    "%E2%80%AE%F0%9F%98%80%E2%80%8B",  # right-to-left override, an emoji, a zero-width space
    "%27%22%3C%2Fscript%3E..%2F..",
]
HOSTILE_QUERY = (
    "?page=-1&cursor=zzz&page_size=99999999999999999999&q=" + "%C3%A9" * 600 + "&patient=%E2%80%AE&site=%F0%9F%98%80"
    "&ordering=__x&status=%27&kind=x&date=9999-99-99&id=1e999"
)
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^()]*\)|\((?!\?)[^()]*\)")


def url_templates() -> list[str]:
    """Every route of the URL conf as a template with {name} for each parameter."""
    templates = []
    for pattern in _walk(get_resolver().url_patterns):
        route = pattern.route.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
        template = _PARAMETER.sub(lambda m: "{" + (m.group(1) or m.group(2) or "arg") + "}", route)
        assert not re.search(r"[\\()\[\]*+?|]", template), template
        templates.append("/" + template)
    return sorted(set(templates))


def urls_for(template: str, *, staff: bool) -> list[str]:
    names = re.findall(r"\{(\w+)\}", template)
    if not names:
        return [template, template + HOSTILE_QUERY]
    values = HOSTILE_VALUES[:1] if template.startswith("/admin/") and not staff else HOSTILE_VALUES
    urls = [re.sub(r"\{\w+\}", value, template) for value in values]
    urls.append(re.sub(r"\{\w+\}", "1", template) + HOSTILE_QUERY)
    return urls


def test_the_crawl_covers_every_route():
    templates = url_templates()
    assert len(templates) > 300 and "/patients/{study_id}/" in templates


# Each request commits or rolls back on its own, as in production. serialized_rollback as every other
# transactional test here: without it the flush after each run re-created the content types under
# new ids, and the next test that restores the serialized database then failed on them
# (test_permission_matrix after this file, when run without the files between them).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("role", ["anonymous", "clinician", "pharmacist", "analyst", "data_manager", "superuser"])
def test_no_url_answers_a_server_error_to_any_role_whatever_its_parameters(world, role):
    users = {
        "clinician": world.clinician_london,
        "pharmacist": world.pharmacist_london,
        "analyst": world.analyst,
        "data_manager": world.data_manager,
        "superuser": UserFactory(username="root", role=Role.DATA_MANAGER, is_superuser=True, is_staff=True),
    }
    client = Client(raise_request_exception=False)
    if role in users:
        login_with_second_factor(client, users[role])
    staff = role in ("data_manager", "superuser")
    failures = []
    for template in url_templates():
        for url in urls_for(template, staff=staff):
            response = client.get(url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {url[:160]}")
    assert failures == []


def test_a_nul_byte_anywhere_in_any_route_is_a_400():
    client = Client(raise_request_exception=False)
    failures = [
        template
        for template in url_templates()
        if client.get(re.sub(r"\{\w+\}", "1%00", template) if "{" in template else template + "?x=%00").status_code
        != 400
    ]
    assert failures == []


def test_a_json_body_is_still_parsed_after_the_depth_check(world, adverse_event):
    client = APIClient()
    client.force_authenticate(world.clinician_london)
    body = json.dumps({"term": "Migraine", "version": 1, "reason": "Transcription error"})
    response = client.patch(f"/api/v1/adverse-events/{adverse_event.pk}/", body, content_type="application/json")
    assert response.status_code == 200, response.content
