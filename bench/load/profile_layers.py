"""The app's CPU per request, by layer: each middleware, the view, ORM compilation, the driver, templates.

For the web pages of the load test (issue 18, item 3): the patient page, the patient list, the
dispensing worklist, the dispense form (GET, patients the worklist offers, redirects followed), the
batch register, a batch page (the register's batches in turn) and a biomarker save, each
requested `--repeat` times through Django's test client (the full middleware stack, with the load
test's production settings, `bench.load.settings_load`), signed in as a load-test user whose
session has passed its second factor, after `--warmup` requests.

Every middleware is wrapped so that its own CPU (its `__call__` and hooks, less the layers inside
it) is counted apart, and so are the outermost calls of: the handler inside all middleware (the
view with its templates), Django template rendering, the Jinja2 form renderer, the ORM's
`execute_sql` (compile, execute, fetch), its `as_sql` (compilation alone) and the driver's
execute and fetch. CPU time of this process (`time.process_time`), so waiting on the database is
not counted; the database backend's own CPU is read from /proc, so the database must run on this
machine. The biomarker saves go to other patients than the pages viewed, each on a day with no
result yet. Prints one Markdown table per page; `--dump` also writes a cProfile of each page.

    . bench/load/env.sh && LOAD_DB=<clone> DJANGO_ALLOWED_HOSTS=testserver \\
        .venv/bin/python bench/load/profile_layers.py --repeat 200

`--code DIR` runs another checkout's code against the same database (before/after timings).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SELF_CPU: dict[str, float] = defaultdict(float)  # middleware path -> its own CPU seconds
LAYER_CPU: dict[str, float] = defaultdict(float)  # layer -> CPU seconds in its outermost calls
_depth: dict[str, int] = defaultdict(int)

#: Layers timed by wrapping these methods (outermost call only): layer -> (module, class, method).
LAYERS = {
    "view and its templates (inside all middleware)": [("django.core.handlers.base", "BaseHandler", "_get_response")],
    "template render (Django)": [("django.template.base", "Template", "render")],
    "of which form widgets (Jinja2 renderer)": [("jinja2.environment", "Template", "render")],
    "ORM: SQL compile + execute + fetch": [
        ("django.db.models.sql.compiler", name, "execute_sql")
        for name in ("SQLCompiler", "SQLInsertCompiler", "SQLUpdateCompiler", "SQLDeleteCompiler")
    ],
    "of which SQL compile (as_sql)": [
        ("django.db.models.sql.compiler", name, "as_sql")
        for name in (
            "SQLCompiler",
            "SQLInsertCompiler",
            "SQLUpdateCompiler",
            "SQLDeleteCompiler",
            "SQLAggregateCompiler",
        )
    ],
    "of which driver (execute, fetch)": [
        ("django.db.backends.utils", "CursorWrapper", "_execute"),
        ("django.db.backends.utils", "CursorWrapper", "_executemany"),
        ("psycopg", "Cursor", "fetchmany"),
        ("psycopg", "Cursor", "fetchall"),
        ("psycopg", "Cursor", "fetchone"),
    ],
}


def time_layer(layer: str, module: str, owner: str, method: str) -> None:
    """Count the CPU of `owner.method`'s outermost calls (none already inside `layer`) in LAYER_CPU."""
    import importlib

    cls = getattr(importlib.import_module(module), owner)
    original = cls.__dict__.get(method)
    if original is None:  # inherited: its parent class is timed
        return

    def timed_method(*args: Any, **kwargs: Any) -> Any:
        _depth[layer] += 1
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            _depth[layer] -= 1
            if not _depth[layer]:
                LAYER_CPU[layer] += time.process_time() - started

    setattr(cls, method, timed_method)


def backend_cpu_ms(pid: int) -> float:
    """User + system CPU of a PostgreSQL backend so far, from /proc/<pid>/stat (ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS


def timed(path: str) -> type:
    """A middleware class that runs `path`'s middleware and counts its own CPU in SELF_CPU[path]."""
    from django.utils.module_loading import import_string

    class Timed:
        def __init__(self, get_response: Callable[[Any], Any]) -> None:
            self.inside = 0.0

            def inner(request: Any) -> Any:
                started = time.process_time()
                try:
                    return get_response(request)
                finally:
                    self.inside += time.process_time() - started

            self.middleware = import_string(path)(inner)
            for hook in ("process_view", "process_template_response", "process_exception"):
                if hasattr(self.middleware, hook):
                    setattr(self, hook, self._hook(getattr(self.middleware, hook)))

        def _hook(self, method: Callable[..., Any]) -> Callable[..., Any]:
            def run(*args: Any) -> Any:
                started = time.process_time()
                try:
                    return method(*args)
                finally:
                    SELF_CPU[path] += time.process_time() - started

            return run

        def __call__(self, request: Any) -> Any:
            before, started = self.inside, time.process_time()
            try:
                return self.middleware(request)
            finally:
                SELF_CPU[path] += time.process_time() - started - (self.inside - before)

    Timed.__name__ = Timed.__qualname__ = f"Timed[{path}]"
    return Timed


def signed_in_client(username: str) -> Any:
    """A test client signed in as `username`, its session verified by the user's authenticator."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from registry.models import User

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def free_sample_days(study_id: str, analyte: str, count: int) -> list[str]:
    """`count` days with no result of `analyte` for the patient, back from today (one a day and
    analyte is the rule), latest last: each run saves on days no earlier run took."""
    import datetime as dt

    from registry.models import BiomarkerResult

    taken = set(
        BiomarkerResult.objects.filter(patient__study_id=study_id, analyte=analyte).values_list(
            "sample_date", flat=True
        )
    )
    days: list[str] = []
    day = dt.date.today()
    while len(days) < count:
        if day not in taken:
            days.append(day.isoformat())
        day -= dt.timedelta(days=1)
    return days[::-1]


def requests_of(page: str, clinician: Any, pharmacist: Any, patients: list[str], needed: int) -> Callable[[int], Any]:
    """The i-th request of a page: patients taken in turn, so repeated runs ask the same things."""
    from bench.load.html_forms import post_form

    viewed, saved = patients[: len(patients) // 2], patients[len(patients) // 2 :]  # saves change no viewed page
    if page == "patient page":
        return lambda i: clinician.get(f"/patients/{viewed[i % len(viewed)]}/")
    if page == "patient list":
        return lambda i: clinician.get("/patients/")
    if page == "dispensing worklist":
        return lambda i: pharmacist.get("/pharmacy/")
    if page == "dispense form":  # GET, of the patients the worklist offers, redirects followed as the load test's
        due = re.findall(r'href="/pharmacy/dispense/([A-Z]{2}-[A-Z]{3}-\d+)/"', pharmacist.get("/pharmacy/").text)
        assert due, "no patient due on the worklist"  # (to the prescription step when the cycle has none yet)
        return lambda i: pharmacist.get(f"/pharmacy/dispense/{due[i % len(due)]}/", follow=True)
    if page == "batch register":
        return lambda i: pharmacist.get("/pharmacy/batches/")
    if page == "batch page":
        batches = re.findall(r'href="/pharmacy/batches/(\d+)/"', pharmacist.get("/pharmacy/batches/").text)
        assert batches, "no batch in the register"
        return lambda i: pharmacist.get(f"/pharmacy/batches/{batches[i % len(batches)]}/")

    forms: dict[str, dict[str, str]] = {}
    for study_id in saved:  # each form as its page offers it, read and tried once before the timed requests
        url = f"/patients/{study_id}/biomarkers/new/"
        form = post_form(clinician.get(url).content.decode())
        assert form is not None, f"no form on {url}"
        data = {**form["fields"], "analyte": "serum_nfl", "reported_value": "42.5", "reported_unit": "pg/mL",
                "assay": "Quanterix Simoa NF-light", "laboratory": "Load-test laboratory"}  # fmt: skip
        day = free_sample_days(study_id, "serum_nfl", 1)[0]
        if clinician.post(url, {**data, "sample_date": day}).status_code == 302:  # not refused (dead)
            forms[url] = data
    urls = sorted(forms)
    dates = {url: free_sample_days(url.split("/")[2], "serum_nfl", 1 + needed // len(urls)) for url in urls}

    def save(i: int) -> Any:
        url = urls[i % len(urls)]
        response = clinician.post(url, {**forms[url], "sample_date": dates[url].pop()})
        assert response.status_code == 302, f"save refused: {response.status_code}"
        return response

    return save


def measure(name: str, request: Callable[[int], Any], args: argparse.Namespace, backend: int) -> None:
    """Warm up, count the queries of one request, then time `--repeat` requests by layer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(args.warmup):
        request(i)
    with CaptureQueriesContext(connection) as queries:
        request(args.warmup)
    count = len(queries)  # now: the log is read lazily, and reset by the timed requests
    SELF_CPU.clear()
    LAYER_CPU.clear()
    n = args.repeat
    db_before, cpu_before, wall_before = backend_cpu_ms(backend), time.process_time(), time.perf_counter()
    for i in range(n):
        response = request(args.warmup + 1 + i)
    app_ms = (time.process_time() - cpu_before) * 1000 / n
    db_ms = (backend_cpu_ms(backend) - db_before) / n
    wall_ms = (time.perf_counter() - wall_before) * 1000 / n
    print(f"\n### {name}: status {response.status_code}, {count} queries, {n} requests\n")
    print("| layer | CPU ms per request |\n|---|---|")
    print(f"| **app, whole request** (wall {wall_ms:.1f} ms) | **{app_ms:.2f}** |")
    print(f"| database backend | {db_ms:.2f} |")
    for path, seconds in reversed(SELF_CPU.items()):  # outermost first
        print(f"| middleware {path.rsplit('.', 1)[-1]} (own) | {seconds * 1000 / n:.2f} |")
    print(f"| middleware, all (own) | {sum(SELF_CPU.values()) * 1000 / n:.2f} |")
    for layer, seconds in LAYER_CPU.items():
        print(f"| {layer} | {seconds * 1000 / n:.2f} |")
    if args.dump:
        profiler = cProfile.Profile()
        for i in range(n):
            profiler.runcall(request, args.warmup + 1 + n + i)
        profiler.dump_stats(f"{args.dump}.{name.replace(' ', '_')}.prof")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--clinician", default="lt-clin-00")
    parser.add_argument("--pharmacist", default="lt-pharm-00")
    parser.add_argument(
        "--pages",
        default="patient page,patient list,dispensing worklist,dispense form,batch register,batch page,biomarker save",
    )
    parser.add_argument("--code", default=str(Path(__file__).resolve().parents[2]), help="checkout to run")
    parser.add_argument("--dump", default="", help="write each page's cProfile to <DUMP>.<page>.prof")
    args = parser.parse_args()

    sys.path.insert(0, args.code)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.settings_load")
    import django
    from django.conf import settings

    django.setup()
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)  # it would empty the log that counts the queries
    for layer, methods in LAYERS.items():
        for module, owner, method in methods:
            time_layer(layer, module, owner, method)
    settings.MIDDLEWARE = [f"{__name__}.{timed_name(path)}" for path in settings.MIDDLEWARE]
    from django.db import connection

    from registry.models import Patient, User

    clinician, pharmacist = signed_in_client(args.clinician), signed_in_client(args.pharmacist)
    site = User.objects.get(username=args.clinician).sites.get()
    patients = list(Patient.objects.filter(site=site).order_by("study_id").values_list("study_id", flat=True)[:100])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    print(f"code: {args.code}  loadavg: {os.getloadavg()}  patients of {site.code}: {len(patients)} in turn")
    for page in args.pages.split(","):
        needed = args.warmup + 1 + args.repeat * (2 if args.dump else 1)  # saves
        measure(page, requests_of(page, clinician, pharmacist, patients, needed), args, backend)


def timed_name(path: str) -> str:
    """Register a timed wrapper of `path` in this module, by a name settings.MIDDLEWARE can import."""
    name = "Timed_" + path.replace(".", "_")
    globals()[name] = timed(path)
    return name


if __name__ == "__main__":
    main()
