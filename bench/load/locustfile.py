"""Load test of the clinicians' and pharmacists' web pages (issue 5, "Load").

Each simulated user logs in once (as a load-test user made by setup_users.py) and then works as
a person does, pausing 0.5–1.5 s between actions:

- clinicians (weight 4): browse their patient list (plain, searched by study id, filtered,
  sorted, paged), open patient pages and record histories, open forms and save an ALSFRS-R, a
  biomarker result, a clinical event, or correct a record with a reason for change;
- pharmacists (weight 1): open the dispensing worklist, the batch register and a batch, open
  patient pages, and dispense a cycle from the worklist.

Request names start with the category used in the report: "view:" (GET of a page, including the
page a successful save redirects to), "save:" (the form POST alone, redirects not followed) and
"login:". A save that the application refuses with a validation message (form shown again, 200)
or as a stale edit (409) is a handled response, not an error; any 5xx, connection error or other
unexpected status is a failure.

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
from collections import Counter, defaultdict
from html.parser import HTMLParser

import gevent
from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_TEST_PASSWORD", "load-test-Passw0rd-2026")
CLINICIAN_ACCOUNTS = int(os.environ.get("LOAD_TEST_CLINICIANS", 60))
PHARMACIST_ACCOUNTS = int(os.environ.get("LOAD_TEST_PHARMACISTS", 20))
WARMUP = float(os.environ.get("LOAD_WARMUP", 20))
SUMMARY_PATH = os.environ.get("LOAD_SUMMARY", "")

_clinician_ids = itertools.count()
_pharmacist_ids = itertools.count()

PATIENT_LINK = re.compile(r'href="/patients/([A-Z]{2}-[A-Z]{3}-\d+)/"')
DISPENSE_LINK = re.compile(r'href="/pharmacy/dispense/([A-Z]{2}-[A-Z]{3}-\d+)/"')
BATCH_LINK = re.compile(r'href="/pharmacy/batches/(\d+)/"')
EDIT_LINK = re.compile(r'href="(/patients/[A-Z]{2}-[A-Z]{3}-\d+/(?:biomarker|event|alsfrsr)/\d+/edit/)"')
HISTORY_LINK = re.compile(r'href="(/patients/[A-Z]{2}-[A-Z]{3}-\d+/[a-z-]+/\d+/history/)"')
NUM_PAGES = re.compile(r"page \d+ of (\d+)")

ITEM = re.compile(r"q\d+[ab]?_")  # the 12 ALSFRS-R items (5a/5b by gastrostomy)


# --- measurement -----------------------------------------------------------------------------


class Collector:
    """Every response time after the warm-up, by category, with status codes and save outcomes."""

    def __init__(self) -> None:
        self.measuring = False
        self.started = 0.0
        self.stopped = 0.0
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []

    def start(self) -> None:
        self.measuring = True
        self.started = time.time()

    def record(self, name: str, response_time: float, status: int, exception: object) -> None:
        if not self.measuring:
            return
        category = name.split(":", 1)[0]
        self.times[category].append(response_time)
        self.statuses[f"{category} {status}"] += 1
        if exception is not None:
            self.errors[category] += 1
            if len(self.failures) < 50:
                self.failures.append(f"{name} {status} {exception}")

    def summary(self) -> dict:
        elapsed = (self.stopped or time.time()) - self.started if self.started else 0.0
        out: dict = {"measured_seconds": round(elapsed, 1), "categories": {}}
        groups = {"view": self.times["view"], "save": self.times["save"]}
        groups["all"] = groups["view"] + groups["save"]
        for category, values in groups.items():
            values = sorted(values)
            errors = self.errors["view"] + self.errors["save"] if category == "all" else self.errors[category]
            out["categories"][category] = {
                "requests": len(values),
                "req_per_s": round(len(values) / elapsed, 2) if elapsed else None,
                "p50_ms": _percentile(values, 50),
                "p95_ms": _percentile(values, 95),
                "p99_ms": _percentile(values, 99),
                "max_ms": round(values[-1]) if values else None,
                "errors": errors,
            }
        out["login"] = {"requests": len(self.times["login"]), "errors": self.errors["login"]}
        out["statuses"] = dict(sorted(self.statuses.items()))
        out["save_outcomes"] = dict(sorted(self.outcomes.items()))
        out["failures_sample"] = self.failures
        return out


def _percentile(values: list[float], pct: float) -> int | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return round(values[index])


COLLECTOR = Collector()


@events.request.add_listener
def _on_request(name, response_time, response, exception, **_kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    COLLECTOR.record(name, response_time, status, exception)


@events.spawning_complete.add_listener
def _on_spawned(user_count: int, **_kwargs) -> None:
    def begin() -> None:
        if RUNNER[0] is not None:
            RUNNER[0].stats.reset_all()
        COLLECTOR.start()
        print(f"[load] {user_count} users spawned; measuring from now (after {WARMUP:.0f} s warm-up)", flush=True)

    gevent.spawn_later(WARMUP, begin)


RUNNER: list = [None]


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    RUNNER[0] = environment.runner


@events.test_stop.add_listener
def _on_stop(environment, **_kwargs) -> None:
    COLLECTOR.stopped = time.time()
    summary = COLLECTOR.summary()
    summary["users"] = environment.parsed_options.num_users if environment.parsed_options else None
    text = json.dumps(summary, indent=2)
    print(text, flush=True)
    if SUMMARY_PATH:
        with open(SUMMARY_PATH, "w") as fh:
            fh.write(text + "\n")


# --- forms -----------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """The fields of the POST forms of a page, with the values a browser would submit as is."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    @staticmethod
    def _input(form: dict, name: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in ("submit", "button", "image", "file"):
            return
        if kind in ("radio", "checkbox"):
            if kind == "radio":
                form["radios"][name].append(a.get("value", "on"))
            if "checked" in a:
                form["fields"][name] = a.get("value", "on")
            return
        form["fields"][name] = a.get("value", "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "fields": {},
                          "radios": defaultdict(list)}  # fmt: skip
            self.forms.append(self._form)
        if self._form is None or ("name" not in a and tag != "option"):
            return
        name = a.get("name", "")
        if tag == "input":
            self._input(self._form, name, a)
        elif tag == "select":
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
                self._form["fields"].setdefault(self._select, self._select_first)
            if "selected" in a:
                self._form["fields"][self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self._form["fields"][name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def post_form(html: str) -> dict | None:
    """The page's main POST form (the last one: the sign-out form in the header comes first)."""
    parser = FormParser()
    parser.feed(html)
    forms = [f for f in parser.forms if f["method"] == "post" and "csrfmiddlewaretoken" in f["fields"]]
    forms = [f for f in forms if "logout" not in f["action"]]
    return forms[-1] if forms else None


# --- users -----------------------------------------------------------------------------------


class RegistryUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    username = ""

    def on_start(self) -> None:
        self.patients: list[str] = []
        self.login()

    def login(self) -> None:
        with self.client.get("/accounts/login/", name="login: page", catch_response=True) as r:
            self._check(r)
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/accounts/login/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="login: submit",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"login refused for {self.username} ({r.status_code})")
            else:
                r.success()

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
            value=f"{random.uniform(10, 120):.1f}",
            unit="pg/mL",
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
