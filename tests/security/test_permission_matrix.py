"""Every URL pattern and every API endpoint × every role: the status each role gets.

The URLs are discovered from the URL conf and the OpenAPI schema, so a new page or endpoint
without a row in the tables below fails `test_every_discovered_*_has_a_row_in_the_matrix`.
Left out: /admin/ (the Django admin's own staff gate, tested in tests/registry/test_admin.py)
and /static/ (files). Path parameters are filled with real objects of site A (London): its
patient, that patient's records, a batch it was dispensed from. No analysis or import run
exists in this world, so run pages are probed with an absent id: the role gate must answer
(403) before the lookup (404).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import resolve

from access_programme.models import Dispensing, Enrolment, TreatmentCycle
from analytics.models import ExportJob
from registry import services
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    Diagnosis,
    PatientIdentity,
)
from tests.conftest import login_with_second_factor
from tests.factories import days_ago, treated_patient
from tests.security._matrix import discovered_patterns, fill, row_counts, schema_paths

pytestmark = [pytest.mark.requirement("ACC-01"), pytest.mark.django_db]

ANON, CLIN_A, CLIN_B, PHARM, ANALYST, DM = "anonymous", "clinician_a", "clinician_b", "pharmacist_a", "analyst", "dm"
ROLES = (ANON, CLIN_A, CLIN_B, PHARM, ANALYST, DM)
LOGIN = "login"  # a 302 to the login page
ABSENT = 999_999


def row(anon, clin_a, clin_b, pharm, analyst, dm):
    return dict(zip(ROLES, (anon, clin_a, clin_b, pharm, analyst, dm), strict=True))


ALL_200 = row(200, 200, 200, 200, 200, 200)
SIGNED_IN = row(LOGIN, 200, 200, 200, 200, 200)
POST_ONLY = row(LOGIN, 405, 405, 405, 405, 405)
CLINICAL_WRITE_FORM = row(LOGIN, 200, 404, 403, 403, 200)  # a form on a site-A patient
PATIENT_READ = row(LOGIN, 200, 404, 200, 200, 200)
PHARMACY = row(LOGIN, 403, 403, 200, 403, 200)
ANALYSTS = row(LOGIN, 403, 403, 403, 200, 200)
ANALYSTS_ABSENT_RUN = row(LOGIN, 403, 403, 403, 404, 404)
DATA_MANAGERS = row(LOGIN, 403, 403, 403, 403, 200)
DM_ABSENT_RUN = row(LOGIN, 403, 403, 403, 403, 404)
OWN_EXPORT = row(LOGIN, 404, 404, 404, 200, 404)  # the analyst's export job

# name -> (keyword arguments to build the URL from, GET status per role)
PAGES: dict[str, tuple[dict[str, str], dict[str, object]]] = {
    "login": ({}, ALL_200),
    "logout": ({}, row(405, 405, 405, 405, 405, 405)),  # logging out is a POST
    "password_change": ({}, SIGNED_IN),
    "password_change_done": ({}, SIGNED_IN),
    "two_factor_setup": ({}, SIGNED_IN),
    "two_factor_verify": ({}, SIGNED_IN),
    # a one-time enrolment link: an unknown key is not found, whoever asks
    "enrolment_link": ({"key": "=nonsense"}, row(404, 404, 404, 404, 404, 404)),
    "token_list": ({}, SIGNED_IN),  # one's own tokens
    "token_revoke": ({"pk": "absent"}, POST_ONLY),
    # site leads only; nobody in this world leads a site (data managers use the admin)
    "site_users": ({}, row(LOGIN, 403, 403, 403, 403, 403)),
    "site_user_deactivate": ({"pk": "absent"}, POST_ONLY),
    "site_user_role": ({"pk": "absent"}, POST_ONLY),
    "site_user_reset_second_factor": ({"pk": "absent"}, POST_ONLY),
    "healthz": ({}, ALL_200),
    "healthz_all": ({}, ALL_200),  # the test settings run tasks in-process: no worker or beat to miss
    "clinic:home": ({}, row(LOGIN, 302, 302, 302, 302, 302)),  # to each role's work list
    "clinic:patient_list": ({}, SIGNED_IN),
    "clinic:enrol": ({}, row(LOGIN, 200, 200, 403, 403, 200)),
    "clinic:enrol_eligibility": ({}, POST_ONLY),
    "clinic:patient_detail": ({"study_id": "patient"}, PATIENT_READ),
    "clinic:patient_summary_pdf": ({"study_id": "patient"}, PATIENT_READ),  # the printable one-page summary
    "clinic:alsfrsr_create": ({"study_id": "patient"}, CLINICAL_WRITE_FORM),
    "clinic:alsfrsr_score": ({"study_id": "patient"}, POST_ONLY),
    "clinic:biomarker_create": ({"study_id": "patient"}, CLINICAL_WRITE_FORM),
    "clinic:adverse_event_create": ({"study_id": "patient"}, CLINICAL_WRITE_FORM),
    "clinic:event_create": ({"study_id": "patient"}, CLINICAL_WRITE_FORM),
    "clinic:consent_withdraw": ({"study_id": "patient"}, CLINICAL_WRITE_FORM),
    "clinic:record_edit": ({"study_id": "patient", "kind": "=diagnosis", "pk": "diagnosis"}, CLINICAL_WRITE_FORM),
    "clinic:record_history": ({"study_id": "patient", "kind": "=diagnosis", "pk": "diagnosis"}, PATIENT_READ),
    "clinic:sae_alerts": ({}, DATA_MANAGERS),
    # data quality: every site user sees their sites' page; raising a query is for data managers
    "clinic:quality_overview": ({}, SIGNED_IN),
    "clinic:query_detail": ({"pk": "absent"}, row(LOGIN, 404, 404, 404, 404, 404)),
    "clinic:query_act": ({"pk": "absent", "action": "=answer"}, POST_ONLY),
    "clinic:query_create": ({"study_id": "patient"}, row(LOGIN, 403, 404, 403, 403, 200)),
    # signing is for the patient's investigators (clinicians of the site), unlocking for data managers
    "clinic:sign_casebook": ({"study_id": "patient"}, row(LOGIN, 200, 404, 403, 403, 403)),
    "clinic:sign_visit": ({"study_id": "patient", "pk": "alsfrsr"}, row(LOGIN, 200, 404, 403, 403, 403)),
    "clinic:unlock": ({"study_id": "patient", "pk": "absent"}, row(LOGIN, 403, 404, 403, 403, 404)),
    # identity search: roles that see identities (not analysts), among their own sites
    "clinic:patient_find": ({}, row(LOGIN, 200, 200, 200, 403, 200)),
    "clinic:sae_alert_acknowledge": ({"pk": "absent"}, POST_ONLY),
    "clinic:safety_dashboard": ({}, DATA_MANAGERS),
    "clinic:safety_case": ({"pk": "safety_case"}, CLINICAL_WRITE_FORM),
    "clinic:safety_case_icsr": ({"pk": "safety_case"}, CLINICAL_WRITE_FORM),
    "clinic:safety_report_create": ({"pk": "safety_case"}, POST_ONLY),
    "clinic:safety_case_close": ({"pk": "safety_case"}, POST_ONLY),
    # identities of a site-A patient, for the roles that see identities (analysts never)
    "clinic:subject_access": ({"study_id": "patient"}, row(LOGIN, 200, 404, 200, 403, 200)),
    "clinic:notifications": ({}, SIGNED_IN),
    "clinic:notification_open": ({"pk": "absent"}, POST_ONLY),
    "analytics:sae-line-listing": ({}, DATA_MANAGERS),
    "pharmacy:worklist": ({}, PHARMACY),
    # no checked prescription for the next cycle yet: the pharmacy is sent to the prescription step
    "pharmacy:dispense": ({"study_id": "patient"}, row(LOGIN, 403, 404, 302, 403, 302)),
    "pharmacy:prescribe": ({"study_id": "patient"}, row(LOGIN, 403, 404, 200, 403, 200)),
    "pharmacy:dispensing_detail": ({"pk": "dispensing"}, PHARMACY),
    "pharmacy:dispensing_label": ({"pk": "dispensing"}, PHARMACY),
    "pharmacy:dispensing_return": ({"pk": "dispensing"}, PHARMACY),
    "pharmacy:batch_stock": ({"pk": "batch"}, PHARMACY),
    "pharmacy:reconciliation": ({}, PHARMACY),
    "pharmacy:excursions": ({}, PHARMACY),
    "pharmacy:specials_register": ({}, PHARMACY),
    "pharmacy:recall_acknowledge": ({"pk": "=1"}, POST_ONLY),
    "pharmacy:batch_list": ({}, PHARMACY),
    "pharmacy:batch_receive": ({}, PHARMACY),
    "pharmacy:batch_detail": ({"pk": "batch"}, PHARMACY),
    "pharmacy:batch_recipients_csv": ({"pk": "batch"}, PHARMACY),
    "pharmacy:batch_adverse_events_csv": ({"pk": "batch"}, PHARMACY),
    # the specials register's inspection export: logged in the export log, hence under analytics
    "analytics:specials-register-csv": ({}, PHARMACY),
    "analytics:specials-register-pdf": ({}, PHARMACY),
    "survival:dashboard": ({}, ANALYSTS),
    "survival:run_start": ({}, row(405, 405, 405, 405, 405, 405)),
    "survival:run_detail": ({"run_id": "absent"}, ANALYSTS_ABSENT_RUN),
    "survival:run_progress": ({"run_id": "absent"}, ANALYSTS_ABSENT_RUN),
    "survival:download_json": ({"run_id": "absent"}, ANALYSTS_ABSENT_RUN),
    "survival:download_report": ({"run_id": "absent"}, ANALYSTS_ABSENT_RUN),
    "survival:download_table": ({"run_id": "absent", "table": "=km"}, ANALYSTS_ABSENT_RUN),
    "survival:download_figure": ({"run_id": "absent", "name": "=km", "fmt": "=svg"}, ANALYSTS_ABSENT_RUN),
    "survival:download_pdf": ({"run_id": "absent"}, ANALYSTS_ABSENT_RUN),
    "survival:download_package": ({"run_id": "absent"}, ANALYSTS_ABSENT_RUN),
    "survival:benchmarks": ({}, ANALYSTS),
    # datasets are pseudonymised and scoped to the rows the user may see: every signed-in role
    "analytics:index": ({}, SIGNED_IN),
    "analytics:dictionary": ({}, SIGNED_IN),
    "analytics:dictionary-download": ({"file_format": "=csv"}, SIGNED_IN),
    "analytics:table-download": ({"table": "=patients", "file_format": "=csv"}, SIGNED_IN),
    # statistics-package exports: anyone may ask (POST); a job is seen by its requester only
    "analytics:export-request": ({}, row(405, 405, 405, 405, 405, 405)),
    "analytics:export-job": ({"job_id": "export_job"}, OWN_EXPORT),
    "analytics:export-job-status": ({"job_id": "export_job"}, OWN_EXPORT),
    "analytics:export-job-download": ({"job_id": "export_job"}, row(LOGIN, 404, 404, 404, 404, 404)),  # not built
    "analytics:overview": ({}, ANALYSTS),
    "analytics:overview-csv": ({"name": "=status"}, ANALYSTS),
    "interchange:upload": ({}, DATA_MANAGERS),
    "interchange:run_detail": ({"pk": "absent"}, DM_ABSENT_RUN),
    "interchange:run_report": ({"pk": "absent"}, DM_ABSENT_RUN),
    # API pages that are not resources
    "api:api-root": ({}, row(401, 200, 200, 200, 200, 200)),
    "api:schema": ({}, row(401, 200, 200, 200, 200, 200)),
    "api:docs": ({}, row(401, 200, 200, 200, 200, 200)),
    "api:redoc": ({}, row(401, 200, 200, 200, 200, 200)),
}

API_SIGNED_IN = row(401, 200, 200, 200, 200, 200)
API_SITE_A_RECORD = row(401, 200, 404, 200, 200, 200)
API_IDENTITY_LIST = row(401, 200, 200, 200, 403, 200)
API_IDENTITY_A = row(401, 200, 404, 200, 403, 200)

# OpenAPI path -> (object filling {id}, GET status per role)
API: dict[str, tuple[str | None, dict[str, object]]] = {
    "/api/v1/sites/": (None, API_SIGNED_IN),
    "/api/v1/sites/{id}/": ("site", API_SITE_A_RECORD),
    "/api/v1/routes/": (None, API_SIGNED_IN),
    "/api/v1/routes/{id}/": ("route", API_SIGNED_IN),
    "/api/v1/products/": (None, API_SIGNED_IN),
    "/api/v1/products/{id}/": ("product", API_SIGNED_IN),
    "/api/v1/patients/": (None, API_SIGNED_IN),
    "/api/v1/patients/{id}/": ("patient_pk", API_SITE_A_RECORD),
    "/api/v1/identities/": (None, API_IDENTITY_LIST),
    "/api/v1/identities/{id}/": ("identity", API_IDENTITY_A),
    "/api/v1/consents/": (None, API_SIGNED_IN),
    "/api/v1/consents/{id}/": ("consent", API_SITE_A_RECORD),
    "/api/v1/consent-withdrawals/": (None, API_SIGNED_IN),
    "/api/v1/consent-withdrawals/{id}/": ("withdrawal", API_SITE_A_RECORD),
    "/api/v1/diagnoses/": (None, API_SIGNED_IN),
    "/api/v1/diagnoses/{id}/": ("diagnosis", API_SITE_A_RECORD),
    "/api/v1/alsfrs-r/": (None, API_SIGNED_IN),
    "/api/v1/alsfrs-r/{id}/": ("alsfrsr", API_SITE_A_RECORD),
    "/api/v1/biomarkers/": (None, API_SIGNED_IN),
    "/api/v1/biomarkers/{id}/": ("biomarker", API_SITE_A_RECORD),
    "/api/v1/events/": (None, API_SIGNED_IN),
    "/api/v1/events/{id}/": ("event", API_SITE_A_RECORD),
    "/api/v1/adverse-events/": (None, API_SIGNED_IN),
    "/api/v1/adverse-events/{id}/": ("adverse_event", API_SITE_A_RECORD),
    "/api/v1/enrolments/": (None, API_SIGNED_IN),
    "/api/v1/enrolments/{id}/": ("enrolment", API_SITE_A_RECORD),
    "/api/v1/cycles/": (None, API_SIGNED_IN),
    "/api/v1/cycles/{id}/": ("cycle", API_SITE_A_RECORD),
    "/api/v1/batches/": (None, API_SIGNED_IN),
    "/api/v1/batches/{id}/": ("batch", API_SIGNED_IN),  # stock, not patient data: every user may trace it
    "/api/v1/dispensings/": (None, API_SIGNED_IN),
    "/api/v1/dispensings/{id}/": ("dispensing", API_SITE_A_RECORD),
    "/api/v1/datasets/": (None, API_SIGNED_IN),
    "/api/v1/datasets/{table}/": ("table", API_SIGNED_IN),
    "/api/v1/datasets/{table}/csv/": ("table", API_SIGNED_IN),
    "/api/v1/datasets/{table}/parquet/": ("table", API_SIGNED_IN),
    "/api/v1/dataset-dictionary/": (None, API_SIGNED_IN),
    "/api/v1/dataset-dictionary/csv/": (None, API_SIGNED_IN),
    "/api/v1/dataset-dictionary/markdown/": (None, API_SIGNED_IN),
    "/api/v1/dataset-exports/": (None, API_SIGNED_IN),
    "/api/v1/dataset-exports/{id}/": ("export_job", row(401, 404, 404, 404, 200, 404)),
    "/api/v1/dataset-exports/{id}/download/": ("export_job", row(401, 404, 404, 404, 404, 404)),  # not built yet
}


@pytest.fixture
def objects(world, full_patient):
    """Site A's patient with a row in every table, and the values that fill path parameters."""
    patient = full_patient(world.london)
    dispensing = Dispensing.objects.get(patient=patient)
    return {
        "patient": patient.study_id,
        "patient_pk": patient.pk,
        "site": world.london.pk,
        "route": Enrolment.objects.get(patient=patient).route_id,
        "product": dispensing.batch.product_id,
        "identity": PatientIdentity.objects.get(patient=patient).pk,
        "consent": Consent.objects.get(patient=patient).pk,
        "diagnosis": Diagnosis.objects.get(patient=patient).pk,
        "alsfrsr": AlsfrsrAssessment.objects.get(patient=patient).pk,
        "biomarker": BiomarkerResult.objects.get(patient=patient).pk,
        "event": ClinicalEvent.objects.get(patient=patient).pk,
        "adverse_event": AdverseEvent.objects.get(patient=patient).pk,
        "safety_case": services.adverse_event_record(
            actor=None,
            patient=patient,
            term="Pneumonia",
            onset_date=days_ago(5),
            ctcae_grade=3,
            serious=True,
            criterion_hospitalisation=True,
            relatedness="unlikely",
        ).safety_case.pk,
        "enrolment": Enrolment.objects.get(patient=patient).pk,
        "withdrawal": _withdrawn_site_a_patient(world.london).pk,
        "cycle": TreatmentCycle.objects.get(patient=patient).pk,
        "batch": dispensing.batch_id,
        "dispensing": dispensing.pk,
        "table": "patients",
        "absent": ABSENT,
        "patient_obj": patient,
        "export_job": ExportJob.objects.create(user=world.analyst, table="patients", file_format="dta").pk,
    }


def _withdrawn_site_a_patient(site):
    """Another site-A patient, withdrawn from treatment (so the main patient's pages stay as they are)."""
    patient = treated_patient(site=site)
    services.audited_save(Consent(patient=patient, form_version="v1", consent_date=days_ago(90)), actor=None)
    return services.consent_withdraw(
        actor=None, patient=patient, level="treatment_only", effective_on=days_ago(10), reason="Patient's wish"
    )


@pytest.fixture
def clients(world):
    users = {
        CLIN_A: world.clinician_london,
        CLIN_B: world.clinician_sheffield,
        PHARM: world.pharmacist_london,
        ANALYST: world.analyst,
    }
    made = {ANON: Client()}
    for role, user in users.items():
        made[role] = Client()
        login_with_second_factor(made[role], user)
    made[DM] = Client()
    login_with_second_factor(made[DM], world.data_manager)
    return made


def _outcome(response) -> object:
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return LOGIN
    return response.status_code


def _consume(response) -> None:
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)


def _statuses(clients, url: str) -> dict[str, object]:
    got = {}
    for role in ROLES:
        response = clients[role].get(url)
        got[role] = _outcome(response)
        _consume(response)
    return got


# --- the matrix is complete --------------------------------------------------------------


def test_every_discovered_page_has_a_row_in_the_matrix():
    api_resources = {resolve(path.replace("{id}", "1").replace("{table}", "patients")).view_name for path in API}
    missing = sorted({p.name for p in discovered_patterns()} - set(PAGES) - api_resources)
    assert missing == [], f"URL patterns with no expected statuses: {missing}"


def test_every_api_endpoint_in_the_schema_has_a_row_in_the_matrix():
    missing = sorted(set(schema_paths()) - set(API))
    assert missing == [], f"API paths with no expected statuses: {missing}"


def test_the_matrix_has_no_row_for_a_url_that_no_longer_exists():
    gone = sorted(set(PAGES) - {p.name for p in discovered_patterns()}) + sorted(set(API) - set(schema_paths()))
    assert gone == []


# --- GET: every URL × every role ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_role_gets_the_expected_status_for_the_page(name, objects, clients):
    from django.urls import reverse

    kwargs, expected = PAGES[name]
    filled = {key: value[1:] if value.startswith("=") else objects[value] for key, value in kwargs.items()}
    url = reverse(name, kwargs=filled)
    assert _statuses(clients, url) == expected, url


def _api_url(path: str, objects: dict) -> str:
    key = API[path][0]
    return fill(path, {"id": objects[key], "table": objects["table"]}) if key else path


#: The dataset downloads run outside ATOMIC_REQUESTS (they stream); DRF's error handler then marks
#: the test's own wrapping transaction for rollback, so these run in real transactions.
NON_ATOMIC = sorted(p for p in API if p.startswith("/api/v1/datasets/"))


@pytest.mark.parametrize("path", sorted(set(API) - set(NON_ATOMIC)))
def test_each_role_gets_the_expected_status_for_the_api_endpoint(path, objects, clients):
    assert _statuses(clients, _api_url(path, objects)) == API[path][1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("path", NON_ATOMIC)
def test_each_role_gets_the_expected_status_for_the_dataset_endpoint(path, objects, clients):
    assert _statuses(clients, _api_url(path, objects)) == API[path][1]


API_PAGES = ("api:api-root", "api:schema", "api:docs", "api:redoc")


def test_every_api_url_refuses_an_anonymous_client_with_401_and_a_token_challenge(objects):
    from django.urls import reverse

    urls = [reverse(name) for name in API_PAGES] + [_api_url(path, objects) for path in sorted(API)]
    refused = {url: Client().get(url) for url in urls}
    assert {url: (r.status_code, r.get("WWW-Authenticate")) for url, r in refused.items()} == dict.fromkeys(
        urls, (401, "Token")
    )


# --- refused writes change no row ------------------------------------------------------------


def _event_form():
    return {"event_type": "gastrostomy", "event_date": days_ago(3).isoformat()}


def _ae_form():
    return {
        "term": "Headache",
        "onset_date": days_ago(3).isoformat(),
        "ctcae_grade": "1",
        "serious": "",
        "relatedness": "possible",
        "action_taken": "none",
        "outcome": "unknown",
    }


def _biomarker_form():
    return {
        "sample_date": days_ago(3).isoformat(),
        "analyte": "csf_pnfh",
        "reported_value": "1500",
        "reported_unit": "pg/mL",
    }


def _withdrawal_form():
    return {"level": "no_data_use", "effective_on": days_ago(3).isoformat(), "reason": "test"}


def _batch_form():
    return {
        "product": "proleukin_specials",
        "batch_number": "SPX-9999",
        "expiry_date": days_ago(-200).isoformat(),
        "supplier": "Synthetic Specials Ltd",
        "manufacturer_licence": "MS 12345",
        "received_on": days_ago(1).isoformat(),
        "quantity_received": 10,
        "quantity_unit": "syringe",
        "dose_miu_per_unit": "2.000",
    }


# (description, role, url template, payload builder, expected status); API posts are JSON
REFUSED_WEB_WRITES = [
    ("event form", PHARM, "/patients/{patient}/events/new/", _event_form, 403),
    ("event form", ANALYST, "/patients/{patient}/events/new/", _event_form, 403),
    ("event form", CLIN_B, "/patients/{patient}/events/new/", _event_form, 404),
    ("event form", ANON, "/patients/{patient}/events/new/", _event_form, LOGIN),
    ("adverse event form", ANALYST, "/patients/{patient}/adverse-events/new/", _ae_form, 403),
    ("adverse event form", PHARM, "/patients/{patient}/adverse-events/new/", _ae_form, 403),
    ("biomarker form", ANALYST, "/patients/{patient}/biomarkers/new/", _biomarker_form, 403),
    ("biomarker form", CLIN_B, "/patients/{patient}/biomarkers/new/", _biomarker_form, 404),
    (
        "diagnosis edit",
        ANALYST,
        "/patients/{patient}/diagnosis/{diagnosis}/edit/",
        lambda: {"svc_percent": "60.0", "version": "1", "change_reason": "test"},
        403,
    ),
    (
        "diagnosis edit",
        CLIN_B,
        "/patients/{patient}/diagnosis/{diagnosis}/edit/",
        lambda: {"svc_percent": "60.0", "version": "1", "change_reason": "test"},
        404,
    ),
    ("consent withdrawal form", ANALYST, "/patients/{patient}/withdrawal/", _withdrawal_form, 403),
    ("consent withdrawal form", PHARM, "/patients/{patient}/withdrawal/", _withdrawal_form, 403),
    ("consent withdrawal form", CLIN_B, "/patients/{patient}/withdrawal/", _withdrawal_form, 404),
    ("batch receive", CLIN_A, "/pharmacy/batches/receive/", _batch_form, 403),
    ("batch receive", ANALYST, "/pharmacy/batches/receive/", _batch_form, 403),
    ("cohort import", CLIN_A, "/data/", dict, 403),
    ("cohort import", ANALYST, "/data/", dict, 403),
    ("survival run", CLIN_A, "/analytics/survival/runs/start/", dict, 403),
    ("SAE acknowledgement", CLIN_A, "/alerts/{absent}/acknowledge/", dict, 403),
]

REFUSED_API_WRITES = [
    ("POST events", ANALYST, "post", "/api/v1/events/", "event", 403),
    ("POST events", PHARM, "post", "/api/v1/events/", "event", 403),
    ("POST events", ANON, "post", "/api/v1/events/", "event", 401),
    ("POST events for another site", CLIN_B, "post", "/api/v1/events/", "event", 400),
    ("POST identities", ANALYST, "post", "/api/v1/identities/", "identity", 403),
    ("PATCH identity", PHARM, "patch", "/api/v1/identities/{identity}/", "identity_patch", 403),
    ("PATCH diagnosis", ANALYST, "patch", "/api/v1/diagnoses/{diagnosis}/", "diagnosis_patch", 403),
    ("PATCH diagnosis", CLIN_B, "patch", "/api/v1/diagnoses/{diagnosis}/", "diagnosis_patch", 404),
    ("PATCH diagnosis", PHARM, "patch", "/api/v1/diagnoses/{diagnosis}/", "diagnosis_patch", 403),
    ("POST consent withdrawal", ANALYST, "post", "/api/v1/consent-withdrawals/", "withdrawal", 403),
    ("POST consent withdrawal", PHARM, "post", "/api/v1/consent-withdrawals/", "withdrawal", 403),
    ("POST consent withdrawal for another site", CLIN_B, "post", "/api/v1/consent-withdrawals/", "withdrawal", 400),
    ("PUT consent withdrawal", CLIN_A, "put", "/api/v1/consent-withdrawals/{withdrawal}/", "withdrawal", 405),
    ("DELETE consent withdrawal", DM, "delete", "/api/v1/consent-withdrawals/{withdrawal}/", "withdrawal", 405),
    ("POST batches", CLIN_A, "post", "/api/v1/batches/", "batch", 403),
    ("POST batches", ANALYST, "post", "/api/v1/batches/", "batch", 403),
    ("PATCH batch", CLIN_A, "patch", "/api/v1/batches/{batch}/", "batch_patch", 403),
    ("POST cycles", CLIN_A, "post", "/api/v1/cycles/", "cycle", 403),
    ("POST dispensings", ANALYST, "post", "/api/v1/dispensings/", "dispensing", 403),
]


def _api_payload(kind: str, objects: dict) -> dict:
    patient = objects["patient"]
    return {
        "event": {"patient": patient, **_event_form()},
        "identity": {
            "patient": patient,
            "given_name": "Eve",
            "family_name": "Intruder",
            "date_of_birth": "1960-01-01",
            "nhs_number": "9434765870",
        },
        "identity_patch": {"given_name": "Eve", "version": 1, "reason": "test"},
        "diagnosis_patch": {"svc_percent": "60.0", "version": 1, "reason": "test"},
        "batch": {**_batch_form(), "reason": "test"},
        "batch_patch": {"supplier": "Someone else", "version": 1, "reason": "test"},
        "cycle": {"patient": patient, "cycle_number": 2, "start_date": days_ago(50).isoformat()},
        "dispensing": {"cycle": objects["cycle"], "batch": objects["batch"], "quantity": 1},
        "withdrawal": {"patient": patient, **_withdrawal_form()},
    }[kind]


@pytest.mark.parametrize(
    ("what", "role", "url", "payload", "expected"),
    REFUSED_WEB_WRITES,
    ids=[f"{w[1]}-{w[0]}" for w in REFUSED_WEB_WRITES],
)
def test_a_refused_web_write_changes_no_row(what, role, url, payload, expected, objects, clients):
    before = row_counts()
    response = clients[role].post(url.format(**objects), payload())
    assert _outcome(response) == expected
    assert row_counts() == before


@pytest.mark.parametrize(
    ("what", "role", "method", "url", "payload", "expected"),
    REFUSED_API_WRITES,
    ids=[f"{w[1]}-{w[0]}" for w in REFUSED_API_WRITES],
)
def test_a_refused_api_write_changes_no_row(what, role, method, url, payload, expected, objects, clients):
    before = row_counts()
    send = getattr(clients[role], method)
    response = send(url.format(**objects), _api_payload(payload, objects), content_type="application/json")
    assert response.status_code == expected, response.content[:300]
    assert row_counts() == before
