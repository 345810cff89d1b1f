"""Serious-adverse-event alerts leave through Django's SMTP backend: checked against a real SMTP
server (aiosmtpd) listening on this machine, not the in-memory outbox."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from registry import services
from registry.models import Role
from tests.factories import UserFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_TIMEOUT=10,
            SAE_ALERT_EMAILS=["pv@example.org"],
        ):
            yield inbox
    finally:
        controller.stop()


def record_sae(route: str = "managed_access"):
    return services.adverse_event_record(
        actor=None,
        patient=treated_patient(route=route),
        term="Pneumonia",
        onset_date=days_ago(1),
        ctcae_grade=3,
        serious=True,
        criterion_hospitalisation=True,
        relatedness="unlikely",
    )


def test_a_serious_event_is_mailed_over_smtp_to_the_data_managers_and_the_fixed_address(
    smtp_inbox, django_capture_on_commit_callbacks
):
    UserFactory.create(role=Role.DATA_MANAGER, email="dm@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        event = record_sae()
    ((recipients, message),) = smtp_inbox.messages
    assert sorted(recipients) == ["dm@example.org", "pv@example.org"]
    assert message["Subject"] == f"Serious adverse event: {event.patient.study_id} – Pneumonia"


def test_the_mail_states_the_case_and_its_clock(smtp_inbox, django_capture_on_commit_callbacks):
    UserFactory.create(role=Role.DATA_MANAGER, email="dm@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        event = record_sae()
    body = smtp_inbox.messages[0][1].get_content()
    assert f"Case {event.safety_case.case_number}" in body
    assert "24 h from awareness" in body


def test_the_mail_names_no_identity(smtp_inbox, django_capture_on_commit_callbacks):
    from tests.factories import IdentityFactory

    UserFactory.create(role=Role.DATA_MANAGER, email="dm@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        event = record_sae()
        IdentityFactory(patient=event.patient)
    body = smtp_inbox.messages[0][1].get_content()
    assert "Margaret" not in body and "9434765919" not in body


def test_a_rolled_back_event_sends_no_mail(smtp_inbox, django_capture_on_commit_callbacks):
    UserFactory.create(role=Role.DATA_MANAGER, email="dm@example.org")
    with django_capture_on_commit_callbacks(execute=False):
        record_sae()
    assert smtp_inbox.messages == []


def test_a_server_that_refuses_the_connection_loses_no_alert(django_capture_on_commit_callbacks, caplog):
    from registry.models import SeriousAdverseEventAlert

    UserFactory.create(role=Role.DATA_MANAGER, email="dm@example.org")
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=free_port(),
            EMAIL_TIMEOUT=5,
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        event = record_sae()
    assert SeriousAdverseEventAlert.objects.filter(adverse_event=event).exists()
    assert "Could not send the e-mail" in caplog.text


def test_with_no_one_to_mail_the_alerts_are_named_in_one_warning(django_capture_on_commit_callbacks, caplog):
    from registry.models import SeriousAdverseEventAlert

    with django_capture_on_commit_callbacks(execute=False):  # mailed below, both at once, as an import does
        record_sae(), record_sae()
    alerts = sorted(SeriousAdverseEventAlert.objects.values_list("pk", flat=True))
    services.sae_alerts_mail(alerts)
    warnings = [r.getMessage() for r in caplog.records if "no data manager has an e-mail" in r.getMessage()]
    assert warnings == [
        f"2 serious AE alert(s) raised ({alerts[0]}, {alerts[1]}) but no data manager has an e-mail address."
    ]


def test_mailing_alerts_reads_the_same_number_of_queries_for_one_alert_as_for_three(
    django_capture_on_commit_callbacks,
):
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.models import SeriousAdverseEventAlert

    UserFactory.create(role=Role.DATA_MANAGER, email="dm@example.org")
    with django_capture_on_commit_callbacks(execute=False):  # mailed below
        record_sae(), record_sae(), record_sae()
    alerts = sorted(SeriousAdverseEventAlert.objects.values_list("pk", flat=True))
    counts = []
    for batch in (alerts[:1], alerts):
        with CaptureQueriesContext(connection) as queries:
            services.sae_alerts_mail(batch)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(mail.outbox) == 4 and all("Case " in m.body for m in mail.outbox)
