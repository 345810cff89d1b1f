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


@pytest.fixture
def sign_in(live_server):
    """Sign in through the login form by its labels, as a keyboard or screen-reader user would."""

    def _sign_in(page, username: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert "/accounts/login/" not in page.url, f"sign-in failed for {username}"

    return _sign_in
