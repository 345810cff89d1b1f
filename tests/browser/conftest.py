"""Browser tests: pytest-playwright driving Debian's Chromium against live_server.

No browser is downloaded (`playwright install` cannot reach its CDN here); the plugin's
launch arguments point at /usr/bin/chromium instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (fixtures, assertions) are synchronous and safe (pytest-playwright#29).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": shutil.which("chromium") or "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


def sign_in(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/login/" not in page.url, f"sign-in failed for {username}"


def submit(page) -> None:  # type: ignore[no-untyped-def]
    """Submit the page's main form and wait for the response page."""
    with page.expect_navigation():
        page.click("main form button[type=submit]")
