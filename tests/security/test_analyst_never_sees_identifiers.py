"""An analyst never receives a direct identifier: every page, API endpoint and export they can
reach is scanned for the demo cohort's names, NHS numbers and birth dates.

The URLs come from the permission matrix (itself checked against the URL conf and the OpenAPI
schema): every GET the matrix says an analyst gets 200 for, list and detail, plus every
dataset table in both formats (web and API) and the data dictionary.
"""

from __future__ import annotations

import io
import re

import pyarrow.parquet as pq
import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics import exports
from analytics.models import ExportJob
from registry import services
from registry.models import ConsentWithdrawal, Patient, PatientIdentity, Role, User, WithdrawalLevel
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory, days_ago
from tests.security._matrix import fill
from tests.security.test_permission_matrix import ANALYST, API, PAGES

pytestmark = [pytest.mark.requirement("ACC-03"), pytest.mark.django_db(transaction=True, serialized_rollback=True)]

#: the model behind each {id} key of the matrix, to pick a real row for detail URLs
MODELS = {
    "site": "registry.Site",
    "route": "access_programme.Route",
    "product": "access_programme.Product",
    "patient_pk": "registry.Patient",
    "consent": "registry.Consent",
    "withdrawal": "registry.ConsentWithdrawal",
    "diagnosis": "registry.Diagnosis",
    "alsfrsr": "registry.AlsfrsrAssessment",
    "biomarker": "registry.BiomarkerResult",
    "event": "registry.ClinicalEvent",
    "adverse_event": "registry.AdverseEvent",
    "enrolment": "access_programme.Enrolment",
    "cycle": "access_programme.TreatmentCycle",
    "batch": "access_programme.Batch",
    "dispensing": "access_programme.Dispensing",
}


@pytest.fixture
def identifiers() -> list[str]:
    seed_cohort(patients=30, seed=20251, as_of=timezone.localdate())
    found: set[str] = set()
    for identity in PatientIdentity.objects.all():
        found |= {identity.given_name, identity.family_name}
        if nhs := identity.nhs_number:
            found |= {nhs, f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"}
        if dob := identity.date_of_birth:
            found |= {dob.isoformat(), dob.strftime("%d %b %Y")}
    found = {value.strip() for value in found if value and value.strip()}
    assert len(found) > 100  # the cohort really has identities to look for
    return sorted(found)


@pytest.fixture
def scanner() -> User:
    return UserFactory.create(username="scanner", role=Role.ANALYST)


@pytest.fixture
def analyst(scanner: User) -> Client:
    client = Client()
    login_with_second_factor(client, scanner)
    return client


def _body(response) -> str:
    streaming = getattr(response, "streaming", False)
    content = b"".join(response.streaming_content) if streaming else response.content
    if content.startswith(b"PAR1"):
        return str(pq.read_table(io.BytesIO(content)).to_pylist())
    return content.decode("utf-8", errors="replace")


def _leaks(text: str, identifiers: list[str]) -> list[str]:
    """Identifiers found as whole words. "Dr <name>" is the treating clinician (pseudonymised data
    keeps it), whose synthetic surname may equal a patient's given name: not a patient identifier."""
    return [value for value in identifiers if re.search(rf"(?<![\w-])(?<!Dr ){re.escape(value)}(?![\w-])", text)]


def _analyst_urls(scanner: User) -> list[str]:
    patient = Patient.objects.filter(adverse_events__isnull=False, diagnosis__isnull=False).first()
    assert patient is not None  # the demo cohort has patients with adverse events
    values = {
        "patient": patient.study_id,
        "diagnosis": patient.diagnosis.pk,
        "table": "patients",
        "export_job": ExportJob.objects.create(user=scanner, table="patients", file_format="dta").pk,
    }
    if not ConsentWithdrawal.objects.exists():  # a detail URL needs one; treatment only keeps the data in use
        services.consent_withdraw(
            actor=None, patient=patient, level=WithdrawalLevel.TREATMENT_ONLY, effective_on=days_ago(7), reason="Wish"
        )
    urls = []
    for name, (kwargs, expected) in PAGES.items():
        if expected[ANALYST] == 200:
            filled = {k: v[1:] if v.startswith("=") else values[v] for k, v in kwargs.items()}
            urls.append(reverse(name, kwargs=filled))
    for path, (key, expected) in API.items():
        if expected[ANALYST] != 200:
            continue
        if key in MODELS:
            row = apps.get_model(MODELS[key])._default_manager.order_by("pk").first()
            urls.append(fill(path, {"id": row.pk}))
        elif key == "table":
            urls += [fill(path, {"table": table}) for table in exports.TABLES]
        elif key == "export_job":
            urls.append(fill(path, {"id": values["export_job"]}))
        else:
            urls.append(path)
    for table in exports.TABLES:
        for file_format in exports.FORMATS:
            urls.append(reverse("analytics:table-download", kwargs={"table": table, "file_format": file_format}))
    for file_format in exports.DICTIONARY_FORMATS:
        urls.append(reverse("analytics:dictionary-download", kwargs={"file_format": file_format}))
    urls.append(reverse("clinic:patient_list") + "?q=" + patient.study_id)
    return urls


def test_no_page_api_response_or_export_an_analyst_can_reach_contains_a_name_nhs_number_or_birth_date(
    identifiers, analyst, scanner
):
    leaks = {}
    for url in _analyst_urls(scanner):
        response = analyst.get(url)
        assert response.status_code == 200, url
        if found := _leaks(_body(response), identifiers):
            leaks[url] = found
    assert leaks == {}


def test_the_scan_would_catch_an_identifier_in_a_response(identifiers):
    identity = PatientIdentity.objects.first()
    page = f"<td>{identity.family_name}</td><td>{identity.date_of_birth:%d %b %Y}</td>"
    assert identity.family_name in _leaks(page, identifiers)
