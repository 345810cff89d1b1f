"""Study ids follow one pattern (registry.identifiers), checked by the model and so by every
path that makes a patient, held by the database against any other writer, and every URL that
carries a study id accepts every valid one."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from access_programme.demo_cohort import seed_cohort
from analytics import dataset_columns
from registry.identifiers import STUDY_ID_RULE, is_study_id
from registry.models import Patient, Role
from tests.conftest import login_with_second_factor
from tests.factories import PatientFactory, SiteFactory, UserFactory, treated_patient
from tests.interchange.conftest import CLEAN, read_cohort, run_import, sites, write_cohort

__all__ = ["sites"]
pytestmark = pytest.mark.django_db

BAD_IDS = {
    "slash": "GB-LON/0001",
    "formula": "=HYPERLINK(1)",
    "leading-hyphen": "-1+2",
    "rtl-override": "GB-LON-\u202e1000",
    "trailing-space": "GB-LON-0001 ",
    "inner-space": "GB LON 0001",
    "non-ascii-letter": "GB-LÖN-0001",
    "too-long": "A" * 25,
    "nul": "GB-LON\x000001",
}
# A NUL byte makes the whole file unreadable (a file-level error, tests/interchange/test_hostile_files.py).
BAD_IN_A_FILE = {name: value for name, value in BAD_IDS.items() if name != "nul"}
GOOD_IDS = ["GB-LON-0001", "a", "9", "x_Y-9", "A" * 24, "site_2-0042"]


@pytest.mark.parametrize("study_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_the_model_refuses_a_study_id_outside_the_pattern(study_id):
    with pytest.raises(ValidationError) as refused:
        PatientFactory(site=SiteFactory(code="GB-LON"), study_id=study_id)
    assert STUDY_ID_RULE in refused.value.message_dict["study_id"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("study_id", BAD_IN_A_FILE.values(), ids=BAD_IN_A_FILE.keys())
def test_the_database_refuses_a_study_id_outside_the_pattern_from_a_writer_that_skips_the_model(study_id):
    patient = PatientFactory(site=SiteFactory(code="GB-LON"))
    # too long is a DataError on PostgreSQL (varchar(24)) and the CHECK constraint's IntegrityError on SQLite
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(study_id=study_id)
    assert Patient.objects.get(pk=patient.pk).study_id == patient.study_id


def test_a_study_id_with_a_trailing_line_break_is_refused_by_the_database():
    patient = PatientFactory(site=SiteFactory(code="GB-LON"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(study_id="GB-LON-0001\n")


def test_the_only_export_columns_written_without_neutralising_hold_study_ids():
    """The CSV exports skip the formula check only where the database holds the pattern above."""
    passed_through = {c.source for columns in dataset_columns.TABLES.values() for c in columns if c.formula_safe}
    assert passed_through == {"Patient.study_id"}


@pytest.mark.parametrize("study_id", BAD_IN_A_FILE.values(), ids=BAD_IN_A_FILE.keys())
def test_an_import_rejects_a_study_id_outside_the_pattern_and_keeps_the_other_patients(sites, tmp_path, study_id):
    files = read_cohort(CLEAN)
    files["patients.csv"][0]["patient_id"] = study_id
    imported = run_import(write_cohort(tmp_path / "cohort", files))
    error = imported.error_on("patients.csv", 2)
    assert STUDY_ID_RULE in error["message"]
    assert imported.counts("patients.csv")["created"] == len(files["patients.csv"]) - 1


@pytest.mark.parametrize("study_id", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_a_study_id_outside_the_pattern_is_a_404_on_the_web_and_refused_by_the_api(study_id):
    site = SiteFactory(code="GB-LON")
    clinician = UserFactory(username="cli", role=Role.CLINICIAN, sites=[site])
    web = Client()
    login_with_second_factor(web, clinician)
    assert web.get(f"/patients/{quote(study_id)}/").status_code in (400, 404)  # 400: a NUL byte
    api = APIClient()
    api.force_authenticate(clinician)
    response = api.post("/api/v1/adverse-events/", {"patient": study_id, "term": "x"}, format="json")
    assert response.status_code == 400 and "patient" in response.json()


def _study_id_routes() -> list[tuple[str, dict]]:
    """The name and converters of every URL pattern that takes a study id."""
    names: list[tuple[str, dict]] = []

    def walk(patterns: list, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and "study_id" in pattern.pattern.converters:
                names.append((f"{namespace}{pattern.name}", pattern.pattern.converters))

    walk(get_resolver().url_patterns, "")
    return names


SAMPLE_BY_CONVERTER = {"IntConverter": 1, "SlugConverter": "alsfrsr", "StringConverter": "x"}


@pytest.mark.parametrize("study_id", GOOD_IDS)
def test_every_url_that_carries_a_study_id_accepts_every_valid_one(study_id):
    routes = _study_id_routes()
    assert len(routes) >= 10
    for name, converters in routes:
        kwargs = {
            key: study_id if key == "study_id" else SAMPLE_BY_CONVERTER[type(converter).__name__]
            for key, converter in converters.items()
        }
        url = reverse(name, kwargs=kwargs)
        assert study_id in url and resolve(url).kwargs["study_id"] == study_id


def test_the_patient_list_and_page_work_for_an_imported_style_study_id():
    site = SiteFactory(code="GB-LON")
    patient = treated_patient(site=site, study_id="x_Y-9")
    client = Client()
    login_with_second_factor(client, UserFactory(username="cli", role=Role.CLINICIAN, sites=[site]))
    listing = client.get(reverse("clinic:patient_list"))
    assert (
        listing.status_code == 200
        and reverse("clinic:patient_detail", args=[patient.study_id]) in listing.content.decode()
    )
    assert client.get(reverse("clinic:patient_detail", args=[patient.study_id])).status_code == 200


def test_the_demo_cohorts_study_ids_follow_the_pattern():
    seed_cohort(patients=6, seed=3, as_of=timezone.localdate())
    ids = list(Patient.objects.values_list("study_id", flat=True))
    assert len(ids) == 6 and all(is_study_id(study_id) for study_id in ids)
