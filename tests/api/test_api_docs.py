"""The API documentation pages start without inline scripts (the CSP allows script-src 'self' only)
and load nothing from other hosts (ReDoc's fonts are served by the registry)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login_with_second_factor

pytestmark = [pytest.mark.requirement("EXP-02"), pytest.mark.django_db]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_a_docs_page_has_no_inline_script(world, client_for, path):
    client = client_for(None)
    login_with_second_factor(client, world.analyst)
    page = client.get(path).content.decode()
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_a_docs_page_refers_to_no_other_host(world, client_for, path):
    client = client_for(None)
    login_with_second_factor(client, world.analyst)
    page = client.get(path).content.decode()
    assert re.findall(r'(?:src|href)="(https?://[^"]+)"', page) == []


def test_the_docs_keep_the_strict_content_security_policy(world, client_for):
    client = client_for(None)
    login_with_second_factor(client, world.analyst)
    policy = client.get("/api/docs/")["Content-Security-Policy"]
    # Directives in whatever order the header lists them (it is not fixed from one process to the next).
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert (directives["script-src"], directives["font-src"]) == ("'self'", "'self'")
