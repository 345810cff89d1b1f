"""Take the README's screenshots of the main pages from a seeded demo database.

Run from the repository root (needs Debian's Chromium at /usr/bin/chromium, no download):

    .venv/bin/python docs/screenshots/take_screenshots.py [NAME ...]

It builds a throw-away SQLite database in a temporary folder (synthetic cohort, seed 2025),
runs the survival analysis once, collects the static files (the server runs with DEBUG off, as
`make demo` does), serves it on 127.0.0.1 with `manage.py runserver`, signs in as a demo
clinician, pharmacist and analyst in headless Chromium, saves one PNG per page here, and stops
the server. With NAMEs (e.g. `analyst-overview api-docs`) only those pictures are taken.
Nothing outside the temporary folder, staticfiles/ and this folder is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django_otp.oath import TOTP
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PORT = int(os.environ.get("SCREENSHOT_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "screenshot-demo-password"
WIDTH, HEIGHT = 1180, 900  # a landscape tablet / small laptop

#: Each demo user's authenticator secret (hex), so the script can type the current code.
TOTP_KEY = "3132333435363738393031323334353637383930"
USERS = """
from django_otp.plugins.otp_totp.models import TOTPDevice
from registry.models import Site, User
for name, first, role, sites in [("clinician.lon", "Alice", "clinician", ["GB-LON"]),
                                 ("pharmacist.lon", "Chloe", "pharmacist", ["GB-LON"]),
                                 ("analyst.demo", "Ada", "analyst", [])]:
    user, _ = User.objects.get_or_create(
        username=name, defaults={"first_name": first, "last_name": "Demo", "role": role})
    user.set_password("%s")
    user.save()
    user.sites.set(Site.objects.filter(code__in=sites))
    TOTPDevice.objects.get_or_create(user=user, name="authenticator", defaults={"confirmed": True, "key": "%s"})
""" % (PASSWORD, TOTP_KEY)


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def sign_in(page: Page, username: str) -> None:
    page.goto(f"{BASE}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    # Everyone gives a second factor after the password (accounts.two_factor).
    page.get_by_label("6-digit code from your authenticator app, or a recovery code").fill(
        f"{TOTP(bytes.fromhex(TOTP_KEY)).token():06d}"
    )
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state("networkidle")


ONLY = set(sys.argv[1:])


def wanted(name: str) -> bool:
    return not ONLY or name in ONLY


def shoot(page: Page, name: str, full_page: bool = True) -> None:
    if not wanted(name):
        return
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"saved docs/screenshots/{name}.png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/screenshots.sqlite3",
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo", "--patients", "160", "--seed", "2025", "--no-users", "-v0")
        manage(env, "shell", "-c", USERS)
        manage(env, "run_survival", "--output", f"{tmp}/survival.json")
        manage(env, "collectstatic", "--noinput", "-v0")
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{PORT}"], cwd=ROOT, env=env
        )
        try:
            for _ in range(60):
                try:
                    urllib.request.urlopen(f"{BASE}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            capture(env)
        finally:
            server.terminate()
            server.wait(timeout=20)


def capture(env: dict[str, str]) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        clinician = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-GB")
        sign_in(clinician, "clinician.lon")
        clinician.goto(f"{BASE}/patients/")
        shoot(clinician, "patient-list", full_page=False)

        # The patient with the most ALSFRS-R assessments makes the clearest chart.
        study_id = clinician.evaluate(
            """() => [...document.querySelectorAll('tbody th a')].map(a => a.textContent.trim())"""
        )[0]
        clinician.goto(f"{BASE}/patients/?status=active&sort=study_id")
        best, best_count = study_id, -1
        for candidate in clinician.evaluate(
            """() => [...document.querySelectorAll('tbody th a')].map(a => a.textContent.trim())"""
        )[:12]:
            clinician.goto(f"{BASE}/patients/{candidate}/")
            count = clinician.locator("details table tbody tr").count()
            if count > best_count:
                best, best_count = candidate, count
        clinician.goto(f"{BASE}/patients/{best}/")
        shoot(clinician, "patient-page", full_page=False)

        clinician.goto(f"{BASE}/patients/{best}/alsfrsr/new/")
        for item, value in (("q1_speech", 3), ("q2_salivation", 4), ("q3_swallowing", 3), ("q4_handwriting", 2)):
            clinician.locator(f"input[name={item}][value='{value}']").check()
        clinician.wait_for_timeout(600)
        clinician.evaluate("window.scrollTo(0, 0)")
        shoot(clinician, "alsfrsr-form", full_page=False)

        clinician.goto(f"{BASE}/patients/enrol/")
        clinician.get_by_label("Date of birth").fill("1946-05-02")
        clinician.get_by_label("Symptom onset date").fill("2023-01-15")
        clinician.get_by_label("Diagnosis date").fill("2023-09-01")
        clinician.get_by_label("SVC (% predicted)").fill("64")
        clinician.get_by_label("SVC (% predicted)").blur()
        clinician.wait_for_timeout(800)
        clinician.locator("#eligibility-title").scroll_into_view_if_needed()
        shoot(clinician, "enrolment-eligibility", full_page=False)

        pharmacist = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-GB")
        sign_in(pharmacist, "pharmacist.lon")
        pharmacist.goto(f"{BASE}/pharmacy/")
        shoot(pharmacist, "dispensing-worklist", full_page=False)
        pharmacist.goto(f"{BASE}/pharmacy/batches/")
        shoot(pharmacist, "batch-register", full_page=False)

        analyst = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-GB")
        sign_in(analyst, "analyst.demo")
        analyst.goto(f"{BASE}/analytics/overview/")
        shoot(analyst, "analyst-overview")
        analyst.goto(f"{BASE}/api/docs/")
        analyst.locator(".opblock-summary-path").first.wait_for()
        shoot(analyst, "api-docs", full_page=False)
        analyst.goto(f"{BASE}/analytics/")
        analyst.get_by_label("Stata (.dta)").check()
        analyst.get_by_role("button", name="Prepare the export").click()
        analyst.get_by_role("link", name="Download patients for Stata (.dta)").wait_for()
        shoot(analyst, "dataset-export-ready", full_page=False)
        browser.close()


if __name__ == "__main__":
    main()
