"""The demo's users, one per role, with passwords made by the caller."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import Permission

from registry.models import Site, User

DEMO_USERS = [
    ("clinician.lon", "Alice", "Hughes", "clinician", ["GB-LON"], False),
    ("clinician.shf", "Ben", "Okafor", "clinician", ["GB-SHF"], False),
    ("pharmacist.lon", "Chloe", "Patel", "pharmacist", ["GB-LON"], False),
    ("analyst", "Dev", "Sharma", "analyst", [], False),
    ("datamanager", "Erin", "Walsh", "data_manager", [], True),
]


def ensure_demo_users(make_password: Callable[[], str]) -> list[tuple[str, str, str]]:
    """Create missing demo users; returns (username, role, password) for those just created."""
    created: list[tuple[str, str, str]] = []
    for username, first, last, role, site_codes, staff in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        password = make_password()
        user = User.objects.create_user(
            username=username, password=password, first_name=first, last_name=last, role=role, is_staff=staff
        )
        if staff:
            user.user_permissions.set(
                Permission.objects.filter(content_type__app_label__in=["registry", "access_programme"])
            )
        user.sites.set(Site.objects.filter(code__in=site_codes))
        created.append((username, role, password))
    return created
