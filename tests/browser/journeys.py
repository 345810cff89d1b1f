"""What the browser journeys share: a signed-up account at some sites, a screenshot for docs/,
and a save that waits for the next page."""

from __future__ import annotations

from pathlib import Path

from registry.models import Site, User
from tests.browser.conftest import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def account(username: str, role: str, *sites: Site) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, role=role, first_name=username.title(), last_name="Tester"
    )
    user.sites.set(sites)
    return user


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def save(page) -> None:
    with page.expect_navigation():
        page.locator("main form button.primary").first.click()
