"""Browser tests: pytest-playwright driving Debian's Chromium against live_server.

No browser is downloaded (`playwright install` cannot reach its CDN here); the plugin's
launch arguments point at /usr/bin/chromium instead.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import User

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


@pytest.fixture(scope="session")
def browser(django_db_setup, live_server, browser):
    """Playwright's browser, started after the test database and the live server, so closed
    before the server stops, which stops before the database is dropped.

    The live server answers each connection in a daemon thread that closes its database
    connections when the browser hangs up. On SQLite's in-memory database those are the tests'
    own connection, shared with the server only until it stops: a thread still open then (a
    keep-alive connection of a browser closed later) fails to close it, an unhandled exception
    in that thread (`make test` without PostgreSQL showed four). On PostgreSQL such a thread's
    connection would keep the test database from being dropped."""
    return browser


def _authenticator(username: str) -> TOTPDevice:
    """The user's authenticator, ready for its current code even if a sign-in a moment ago used it
    (django-otp refuses a code's time step twice: last_t)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=User.objects.get(username=username), name="authenticator", defaults={"confirmed": True}
    )
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return device


def _current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def sign_in(live_server):
    """Sign in through the login form by its labels, as a keyboard or screen-reader user would."""

    def _sign_in(page, username: str) -> None:
        device = _authenticator(username)
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert "/accounts/login/" not in page.url, f"sign-in failed for {username}"
        assert "/accounts/2fa/verify/" in page.url, "everyone gives a second factor after the password"
        page.get_by_label("6-digit code from your authenticator app, or a recovery code").fill(_current_code(device))
        with page.expect_navigation():
            page.get_by_role("button", name="Verify").click()
        assert "/accounts/2fa/" not in page.url, f"second factor failed for {username}"

    return _sign_in
