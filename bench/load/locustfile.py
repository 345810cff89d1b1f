"""Load test of the clinicians' and pharmacists' web pages (issue 5, "Load").

Each simulated user logs in once (as a load-test user made by setup_users.py) and then works as
a person does, pausing 0.5–1.5 s between actions:

- clinicians (weight 4): browse their patient list (plain, searched by study id, filtered,
  sorted, paged), open patient pages and record histories, open forms and save an ALSFRS-R, a
  biomarker result, a clinical event, or correct a record with a reason for change;
- pharmacists (weight 1): open the dispensing worklist, the batch register and a batch, open
  patient pages, and dispense a cycle from the worklist.

Every session needs a second factor (accounts/two_factor.py): after the password, each user
computes the current code of the TOTP authenticator setup_users.py enrolled for its account (keys
in LOAD_TEST_TOTP_KEYS) and posts it to the verify page, as a person reads it off a phone. A
login that does not end on the role's start page, and any page view that ends on the
second-factor or login page, is a failure.

Request names start with the category used in the report: "view:" (GET of a page, including the
page a successful save redirects to), "save:" (the form POST alone, redirects not followed) and
"login:". A save that the application refuses with a validation message (form shown again, 200)
or as a stale edit (409) is a handled response, not an error; any 5xx, connection error or other
unexpected status is a failure.

The client is locust's FastHttpUser (geventhttpclient): it sends the same requests as HttpUser
(python-requests) for about 40 % less of the CPU that this load generator takes from the two
cores it shares with the server (bench/load/README.md, "Client").

Measurement: locust's own statistics (and the --csv files) are reset LOAD_WARMUP seconds after
the last user has spawned, so logins (PBKDF2, deliberately slow) and the ramp are excluded. This
file also keeps every response time per category and writes LOAD_SUMMARY (JSON) at the end:
req/s, p50/p95/p99 and errors for views, saves and both, plus the outcome of every save.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import time

from django_otp.oath import TOTP
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from bench.load.html_forms import post_form
from bench.load.measure import COLLECTOR

PASSWORD = os.environ.get("LOAD_TEST_PASSWORD", "load-test-Passw0rd-2026")
CLINICIAN_ACCOUNTS = int(os.environ.get("LOAD_TEST_CLINICIANS", 60))
PHARMACIST_ACCOUNTS = int(os.environ.get("LOAD_TEST_PHARMACISTS", 20))

TOTP_KEYS = os.environ.get("LOAD_TEST_TOTP_KEYS", os.path.join(os.path.dirname(__file__), ".totp_keys.json"))
VERIFY_PATH = "/accounts/2fa/verify/"
SIGNED_OUT_PATHS = ("/accounts/2fa/", "/accounts/login/")

_clinician_ids = itertools.count()
_pharmacist_ids = itertools.count()

PATIENT_LINK = re.compile(r'href="/patients/([A-Z]{2}-[A-Z]{3}-\d+)/"')
DISPENSE_LINK = re.compile(r'href="/pharmacy/dispense/([A-Z]{2}-[A-Z]{3}-\d+)/"')
BATCH_LINK = re.compile(r'href="/pharmacy/batches/(\d+)/"')
EDIT_LINK = re.compile(r'href="(/patients/[A-Z]{2}-[A-Z]{3}-\d+/(?:biomarker|event|alsfrsr)/\d+/edit/)"')
HISTORY_LINK = re.compile(r'href="(/patients/[A-Z]{2}-[A-Z]{3}-\d+/[a-z-]+/\d+/history/)"')
NUM_PAGES = re.compile(r"page \d+ of (\d+)")

ITEM = re.compile(r"q\d+[ab]?_")  # the 12 ALSFRS-R items (5a/5b by gastrostomy)


# --- second factor -------------------------------------------------------------------------

_keys: dict[str, bytes] = {}
_last_step: dict[str, int] = {}  # per account: a TOTP code is accepted once (django-otp refuses replays)


def totp_code(username: str) -> str:
    """The account's current 6-digit code, as its authenticator app shows it (django-otp's defaults:
    SHA-1, 30 s steps, t0 0). When another simulated user of the same account has just used this
    step's code, wait for the next step, as a person would."""
    if not _keys:
        with open(TOTP_KEYS) as handle:
            _keys.update({name: bytes.fromhex(key) for name, key in json.load(handle).items()})
    totp = TOTP(_keys[username])
    while totp.t() <= _last_step.get(username, -1):
        time.sleep(30 - time.time() % 30 + 0.1)
    _last_step[username] = totp.t()
    return f"{totp.token():06d}"


# --- users -----------------------------------------------------------------------------------


class RegistryUser(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    username = ""
    start_page = "/"  # where a signed-in person of this role starts: checked after the login

    def on_start(self) -> None:
        self.patients: list[str] = []
        self.login()

    def login(self) -> None:
        with self.client.get("/accounts/login/", name="login: page", catch_response=True) as r:
            self._check(r)
        token = self.cookie("csrftoken")
        with self.client.post(
            "/accounts/login/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="login: submit",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                self._refuse(r, f"login refused for {self.username} ({r.status_code})")
            r.success()
        self.second_factor()

    def second_factor(self) -> None:
        """The code from the authenticator, posted to the verify page; must land on the start page."""
        verify = f"{VERIFY_PATH}?next={self.start_page}"
        with self.client.get(verify, name="login: second factor page", catch_response=True) as r:
            if not (r.status_code == 200 and r.url.split("?")[0].endswith(VERIFY_PATH)):
                self._refuse(r, f"no second-factor page for {self.username} ({r.status_code} at {r.url})")
            r.success()
        csrf = self.cookie("csrftoken")  # rotated at login
        data = {"token": totp_code(self.username), "next": self.start_page, "csrfmiddlewaretoken": csrf}
        with self.client.post(
            VERIFY_PATH,
            data=data,
            headers={"Referer": f"{self.host}{verify}"},
            name="login: second factor",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            target = r.headers.get("Location", "")
            if r.status_code != 302 or target.startswith(SIGNED_OUT_PATHS):
                self._refuse(r, f"second factor refused for {self.username} ({r.status_code}, to {target!r})")
            r.success()

    def cookie(self, name: str) -> str:
        """The value of a cookie the server set on this user's session ("" if none)."""
        return next((c.value or "" for c in self.client.cookiejar if c.name == name), "")

    @staticmethod
    def _refuse(r, message: str) -> None:
        """A failed login: counted as a failure, shouted, and this simulated user stops."""
        r.failure(message)
        print(f"[load] LOGIN FAILED: {message}", flush=True)
        raise StopUser()

    # Responses: 5xx, connection errors (status 0) and unexpected 4xx are failures.
    @staticmethod
    def _check(r, allowed: tuple[int, ...] = (200,)) -> bool:
        if r.status_code in allowed:
            r.success()
            return True
        r.failure(f"HTTP {r.status_code}")
        return False

    def view(self, url: str, name: str) -> str:
        with self.client.get(url, name=f"view: {name}", catch_response=True) as r:
            landed = r.url.split("://", 1)[-1].partition("/")[2]
            if r.status_code == 200 and f"/{landed}".startswith(SIGNED_OUT_PATHS):
                r.failure(f"sent to /{landed} instead of {url}: the session is not signed in with its second factor")
                return ""
            ok = self._check(r)
            return r.text if ok else ""

    def save(self, url: str, data: dict, name: str, referer: str) -> str | None:
        """POST a form; returns the redirect target when saved, None when refused."""
        with self.client.post(
            url,
            data=data,
            headers={"Referer": f"{self.host}{referer}"},
            name=f"save: {name}",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code == 302:
                r.success()
                COLLECTOR.outcomes[f"{name}: saved"] += COLLECTOR.measuring
                return r.headers.get("Location", "/")
            if r.status_code in (200, 409):
                r.success()  # refused by validation (form shown again) or a stale edit
                COLLECTOR.outcomes[f"{name}: refused {r.status_code}"] += COLLECTOR.measuring
                return None
            r.failure(f"HTTP {r.status_code}")
            COLLECTOR.outcomes[f"{name}: error {r.status_code}"] += COLLECTOR.measuring
            return None

    def after_save(self, location: str | None, name: str) -> None:
        """The browser follows the redirect of a successful save: a page view."""
        if location:
            path = location.split("127.0.0.1", 1)[-1].split("localhost", 1)[-1] if "://" in location else location
            self.view(path, name)

    def remember(self, html: str) -> None:
        found = PATIENT_LINK.findall(html)
        if found:
            self.patients = (self.patients + found)[-200:]

    def a_patient(self) -> str | None:
        return random.choice(self.patients) if self.patients else None


class Clinician(RegistryUser):
    weight = 4
    start_page = "/patients/"

    def on_start(self) -> None:
        self.username = f"lt-clin-{next(_clinician_ids) % CLINICIAN_ACCOUNTS:02d}"
        super().on_start()
        self.pages = 1
        html = self.view("/patients/", "patient list")
        self.remember(html)
        match = NUM_PAGES.search(html)
        self.pages = int(match.group(1)) if match else 1

    # reads ---------------------------------------------------------------------------------
    @task(4)
    def patient_list(self) -> None:
        self.remember(self.view("/patients/", "patient list"))

    @task(2)
    def patient_list_page(self) -> None:
        page = random.randint(2, max(2, min(self.pages, 200)))
        self.remember(self.view(f"/patients/?page={page}", "patient list, page n"))

    @task(3)
    def patient_search(self) -> None:
        patient = self.a_patient()
        if not patient:
            return
        number = patient.rsplit("-", 1)[1]
        query = number[: random.randint(2, len(number))] if random.random() < 0.5 else patient
        self.remember(self.view(f"/patients/?q={query}", "patient list, search"))

    @task(2)
    def patient_filter(self) -> None:
        choice = random.choice(
            [
                ("status=active", "filter status"),
                ("route=nhs_specials", "filter route"),
                ("route=managed_access", "filter route"),
                ("due=alsfrsr", "filter ALSFRS-R due"),
                ("due=cycle", "filter cycle overdue"),
                ("due=sae", "filter open SAE"),
                ("sort=enrolled", "sort enrolled"),
                ("sort=alsfrsr_due", "sort ALSFRS-R due"),
            ]
        )
        self.remember(self.view(f"/patients/?{choice[0]}", f"patient list, {choice[1]}"))

    @task(8)
    def patient_page(self) -> None:
        patient = self.a_patient()
        if not patient:
            return
        html = self.view(f"/patients/{patient}/", "patient page")
        histories = HISTORY_LINK.findall(html)
        if histories and random.random() < 0.15:
            time.sleep(random.uniform(0.5, 1.5))
            self.view(random.choice(histories), "record history")

    # writes --------------------------------------------------------------------------------
    def _open_form(self, url: str, name: str) -> dict | None:
        html = self.view(url, name)
        form = post_form(html) if html else None
        if html and form is None:
            print(f"[load] no POST form on {url}", flush=True)
        return form

    @task(1)
    def record_alsfrsr(self) -> None:
        patient = self.a_patient()
        if not patient:
            return
        url = f"/patients/{patient}/alsfrsr/new/"
        form = self._open_form(url, "ALSFRS-R form")
        if not form:
            return
        time.sleep(random.uniform(0.5, 1.5))  # scoring the 12 items
        data = dict(form["fields"])
        gastrostomy = data.get("gastrostomy", "no") == "yes"
        for item in [name for name in form["radios"] if ITEM.match(name)]:
            data.pop(item, None)
            if (item.startswith("q5a") and gastrostomy) or (item.startswith("q5b") and not gastrostomy):
                continue
            data[item] = str(random.randint(1, 4))
        data["assessment_date"] = (dt.date.today() - dt.timedelta(days=random.randint(0, 20))).isoformat()
        self.after_save(self.save(url, data, "ALSFRS-R", url), "patient page")

    @task(1)
    def record_biomarker(self) -> None:
        patient = self.a_patient()
        if not patient:
            return
        url = f"/patients/{patient}/biomarkers/new/"
        form = self._open_form(url, "biomarker form")
        if not form:
            return
        time.sleep(random.uniform(0.5, 1.5))
        data = dict(form["fields"])
        data.update(
            sample_date=(dt.date.today() - dt.timedelta(days=random.randint(0, 30))).isoformat(),
            analyte="serum_nfl",
            reported_value=f"{random.uniform(10, 120):.1f}",
            reported_unit="pg/mL",
            assay="Quanterix Simoa NF-light",
            laboratory="Load-test laboratory",
        )
        self.after_save(self.save(url, data, "biomarker", url), "patient page")

    @task(1)
    def record_event(self) -> None:
        patient = self.a_patient()
        if not patient:
            return
        url = f"/patients/{patient}/events/new/"
        form = self._open_form(url, "clinical event form")
        if not form:
            return
        time.sleep(random.uniform(0.5, 1.5))
        data = dict(form["fields"])
        data.update(
            event_type="last_known_alive",
            event_date=(dt.date.today() - dt.timedelta(days=random.randint(0, 30))).isoformat(),
            detail="Seen in clinic (load test).",
        )
        self.after_save(self.save(url, data, "clinical event", url), "patient page")

    @task(1)
    def correct_record(self) -> None:
        """Open a patient, pick a biomarker or event, correct it with a reason for change."""
        patient = self.a_patient()
        if not patient:
            return
        html = self.view(f"/patients/{patient}/", "patient page")
        edits = [u for u in EDIT_LINK.findall(html) if "/alsfrsr/" not in u] or EDIT_LINK.findall(html)
        if not edits:
            return
        time.sleep(random.uniform(0.5, 1.5))
        url = random.choice(edits)
        form = self._open_form(url, "edit form")
        if not form:
            return
        time.sleep(random.uniform(0.5, 1.5))
        data = dict(form["fields"])
        if "detail" in data:
            data["detail"] = (data["detail"] + " Corrected.").strip()[:500]
        elif data.get("laboratory") is not None:
            data["laboratory"] = random.choice(["Central laboratory", "Local laboratory"])
        data["change_reason"] = "Transcription error in clinic letter (load test)."
        self.after_save(self.save(url, data, "correction with reason", url), "patient page")


class Pharmacist(RegistryUser):
    weight = 1
    start_page = "/pharmacy/"

    def on_start(self) -> None:
        self.username = f"lt-pharm-{next(_pharmacist_ids) % PHARMACIST_ACCOUNTS:02d}"
        super().on_start()
        self.due: list[str] = []
        self.batches: list[str] = []
        self.worklist()

    @task(3)
    def worklist(self) -> None:
        html = self.view("/pharmacy/", "dispensing worklist")
        self.due = DISPENSE_LINK.findall(html)[:100] or self.due
        self.remember(html[:200_000])

    @task(2)
    def batch_register(self) -> None:
        html = self.view("/pharmacy/batches/", "batch register")
        self.batches = BATCH_LINK.findall(html) or self.batches

    @task(1)
    def batch_detail(self) -> None:
        if self.batches:
            self.view(f"/pharmacy/batches/{random.choice(self.batches)}/", "batch page")

    @task(2)
    def patient_page(self) -> None:
        patient = self.a_patient()
        if patient:
            self.view(f"/patients/{patient}/", "patient page")

    @task(3)
    def dispense(self) -> None:
        if not self.due:
            return
        study_id = random.choice(self.due)
        url = f"/pharmacy/dispense/{study_id}/"
        form = post_form(self.view(url, "dispense form") or "<html></html>")
        if not form:
            return
        time.sleep(random.uniform(0.5, 1.5))
        data = dict(form["fields"])
        today = dt.date.today()
        data.update(dispensed_on=today.isoformat(), cold_chain_confirmed="on", cold_chain_temperature_c="5.0")
        if not data.get("batch") and form["radios"].get("batch"):
            data["batch"] = form["radios"]["batch"][0]
        if "reconstituted_at" in data:
            data["reconstituted_at"] = f"{today.isoformat()}T08:00"
            data["beyond_use_at"] = f"{today.isoformat()}T20:00"
        location = self.save(url, data, "dispense", url)
        if location:
            self.due = [s for s in self.due if s != study_id]
        self.after_save(location, "dispensing worklist")
