"""Structured logs: JSON lines in production, each with the id of the request that caused it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pythonjsonlogger.json import JsonFormatter

from config.log import RequestIdFilter, logging_config
from tests.conftest import run_python
from tests.project.test_project_setup import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]
GENERATED = re.compile(r"[0-9a-f]{32}")

pytestmark = [pytest.mark.requirement("OPS-02"), pytest.mark.django_db]


@pytest.fixture
def request_log() -> Iterator[io.StringIO]:
    """The request log line, through the production JSON formatter and request id filter."""
    options = {key: value for key, value in logging_config("json", "INFO")["formatters"]["json"].items() if key != "()"}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(fmt=options.pop("format"), **options))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("registry.request")
    logger.addHandler(handler)
    previous_level, logger.level = logger.level, logging.INFO
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


def test_every_response_carries_a_request_id(client):
    assert GENERATED.fullmatch(client.get("/healthz")["X-Request-ID"])


def test_the_request_id_a_proxy_sent_is_kept(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-7f3a.1")["X-Request-ID"] == "proxy-7f3a.1"


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID='"><script>alert(1)</script>')
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_each_request_is_logged_as_one_json_line_with_its_request_id(client, request_log):
    response = client.get("/healthz?nhs_number=9434765919")
    [line] = request_log.getvalue().splitlines()
    record = json.loads(line)
    assert record["request_id"] == response["X-Request-ID"]
    assert (record["method"], record["path"], record["status"], record["level"]) == ("GET", "/healthz", 200, "INFO")
    assert "9434765919" not in line  # the query string is never logged


def test_a_log_line_outside_any_request_says_so():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "message", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


def test_an_unknown_log_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="one of plain, json"):
        logging_config("xml", "INFO")


def test_production_writes_each_log_line_as_json():
    program = "import django, logging; django.setup(); logging.getLogger('registry').warning('hi')"
    result = run_python("-c", program, env=PRODUCTION_ENV)
    records = [json.loads(line) for line in result.stderr.splitlines()]  # every line is JSON
    assert {"logger": "registry", "level": "WARNING", "message": "hi", "request_id": "-"}.items() <= records[-1].items()
