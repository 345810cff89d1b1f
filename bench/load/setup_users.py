"""Create (or reset) the load-test users in the load-test database, through the ORM.

60 clinicians (lt-clin-00 … lt-clin-59) and 20 pharmacists (lt-pharm-00 … lt-pharm-19), spread
round-robin over the six sites, one site each, all with the password in LOAD_TEST_PASSWORD
(default below). Idempotent: re-running resets the passwords and sites, and clears django-axes
lockouts for these users.

Every session needs a second factor (accounts/two_factor.py), so each user also gets a confirmed
TOTP authenticator with a fresh random key, enrolled through the service a real user's enrolment
uses (second_factor_enrol: audit row, recovery codes). The keys are written, username -> hex key,
to LOAD_TEST_TOTP_KEYS (default bench/load/.totp_keys.json, mode 0600, git-ignored: test
credentials, never committed), where the locustfile reads them to compute each login's code.

    . bench/load/env.sh && .venv/bin/python bench/load/setup_users.py
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.settings_load")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from accounts.two_factor import DEVICE_NAME  # noqa: E402
from registry.models import Role, Site, User  # noqa: E402
from registry.services.accounts import second_factor_enrol  # noqa: E402

SITES = ["GB-LON", "GB-SHF", "GB-OXF", "GB-EDI", "GB-MAN", "FR-PAR"]
PASSWORD = os.environ.get("LOAD_TEST_PASSWORD", "load-test-Passw0rd-2026")
CLINICIANS = int(os.environ.get("LOAD_TEST_CLINICIANS", 60))
PHARMACISTS = int(os.environ.get("LOAD_TEST_PHARMACISTS", 20))
TOTP_KEYS = Path(os.environ.get("LOAD_TEST_TOTP_KEYS", Path(__file__).with_name(".totp_keys.json")))


def enrol_authenticator(user: User) -> str:
    """A confirmed TOTP authenticator with a new known key (replacing any earlier one); its hex key."""
    key = secrets.token_hex(20)
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key, confirmed=False)
    second_factor_enrol(actor=user, device=device)
    return key


def write_keys(keys: dict[str, str]) -> None:
    TOTP_KEYS.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(TOTP_KEYS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle, indent=1, sort_keys=True)


def main() -> None:
    sites = {s.code: s for s in Site.objects.filter(code__in=SITES)}
    missing = set(SITES) - set(sites)
    if missing:
        raise SystemExit(f"sites missing from the database: {sorted(missing)}")
    hashed = make_password(PASSWORD)  # one hash shared by all: PBKDF2 is deliberately slow
    plan = [(f"lt-clin-{i:02d}", Role.CLINICIAN, SITES[i % 6]) for i in range(CLINICIANS)]
    plan += [(f"lt-pharm-{i:02d}", Role.PHARMACIST, SITES[i % 6]) for i in range(PHARMACISTS)]
    keys: dict[str, str] = {}
    with transaction.atomic():
        for username, role, site in plan:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "role": role,
                    "password": hashed,
                    "is_active": True,
                    "email": f"{username}@load.invalid",
                    "first_name": "Load",
                    "last_name": username,
                },
            )
            user.sites.set([sites[site]])
            keys[username] = enrol_authenticator(user)
    write_keys(keys)
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username__startswith="lt-").delete()
    print(f"{CLINICIANS} clinicians and {PHARMACISTS} pharmacists ready over {', '.join(SITES)}")
    print(f"their TOTP keys: {TOTP_KEYS}")


if __name__ == "__main__":
    main()
