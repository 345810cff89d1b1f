"""Statistics-package exports run as jobs: queued, built with progress, downloaded by their
requester only, and deleted after the retention period; the same through the web and the API."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile

import pytest
from django.test import Client

from analytics import bundles, export_jobs, services, tasks
from analytics.models import ExportJob, ExportLog
from registry import services as registry_services
from registry.models import Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(world):
    client = Client()
    login_with_second_factor(client, world.analyst)
    return client


def _names(response) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist())


def test_a_requested_export_is_built_after_commit_and_offered_for_download(
    web, world, full_patient, django_capture_on_commit_callbacks
):
    full_patient(world.london)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post("/analytics/exports/", {"table": "patients", "file_format": "sav"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/analytics/exports/{job.pk}/"
    page = web.get(response["Location"]).content.decode()
    assert "Download patients for SPSS (.sav)" in page
    download = web.get(f"/analytics/exports/{job.pk}/download/")
    assert download["Content-Type"] == "application/zip"
    assert "patients.sav" in _names(download)


def test_the_job_page_polls_while_the_job_waits_for_a_worker(web, world):
    job = services.export_job_request(actor=world.analyst, table="events", file_format="dta", channel="web")
    status = web.get(f"/analytics/exports/{job.pk}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in status and "Waiting for a worker" in status


def test_rows_read_are_reported_as_progress(world, full_patient, monkeypatch):
    for _ in range(3):
        full_patient(world.london)
    monkeypatch.setattr(bundles, "READ_CHUNK_ROWS", 2)
    reports: list[tuple[int, int, str]] = []
    bundles.table_frame("alsfrs_r", world.analyst, lambda done, total, step: reports.append((done, total, step)))
    assert reports == [(0, 3, "Reading rows"), (2, 3, "Reading rows"), (3, 3, "Reading rows")]


def test_a_finished_job_records_its_rows_file_hash_and_expiry(world, full_patient, settings):
    full_patient(world.london)
    settings.DATASET_EXPORT_RETENTION_HOURS = 5
    job = services.export_job_request(actor=world.analyst, table="patients", file_format="dta", channel="web")
    export_jobs.export_job_execute(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED
    assert job.row_count == 3 and job.progress_percent == 100 and len(job.sha256) == 64
    assert job.expires_at - job.finished_at == dt.timedelta(hours=5)
    assert job.log.completed and job.log.channel == ExportLog.Channel.WEB


def test_only_the_requester_may_see_or_download_an_export(world, full_patient):
    full_patient(world.london)
    job = services.export_job_request(actor=world.analyst, table="patients", file_format="dta", channel="web")
    export_jobs.export_job_execute(job.pk)
    other = Client()
    login_with_second_factor(other, UserFactory(username="analyst2", role=Role.ANALYST))
    assert other.get(f"/analytics/exports/{job.pk}/").status_code == 404
    assert other.get(f"/analytics/exports/{job.pk}/download/").status_code == 404


def test_an_expired_export_loses_its_file_and_keeps_its_record(world, full_patient):
    full_patient(world.london)
    job = services.export_job_request(actor=world.analyst, table="patients", file_format="dta", channel="web")
    export_jobs.export_job_execute(job.pk)
    job.refresh_from_db()
    path = job.file.path
    assert export_jobs.export_files_purge(now=job.expires_at - dt.timedelta(seconds=1)) == []
    assert export_jobs.export_files_purge(now=job.expires_at) == [job.pk]
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED and not job.file
    assert not os.path.exists(path)
    assert ExportLog.objects.filter(pk=job.log_id).exists()


def test_a_refused_export_says_why_on_the_job(world, full_patient):
    patient = full_patient(world.london)
    registry_services.adverse_event_record(
        actor=None, patient=patient, term="é" * 150, onset_date=days_ago(30), ctcae_grade=1, relatedness="possible"
    )
    job = services.export_job_request(actor=world.analyst, table="adverse_events", file_format="xpt", channel="web")
    export_jobs.export_job_execute(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "longer than the 200 bytes SAS transport version 5 allows" in job.error
    assert not ExportLog.objects.get(table="adverse_events", file_format="xpt").completed


def test_a_fourth_export_at_once_is_refused(world, web):
    for table in ("patients", "events", "cycles"):
        services.export_job_request(actor=world.analyst, table=table, file_format="dta", channel="web")
    response = web.post("/analytics/exports/", {"table": "biomarkers", "file_format": "dta"}, follow=True)
    assert "You already have 3 exports in progress" in response.content.decode()
    assert ExportJob.objects.count() == 3


def test_an_unknown_format_is_refused_with_a_message(web):
    response = web.post("/analytics/exports/", {"table": "patients", "file_format": "xls"}, follow=True)
    assert "No export format &#x27;xls&#x27;" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_the_api_starts_an_export_and_links_its_download(
    world, full_patient, client_for, django_capture_on_commit_callbacks
):
    full_patient(world.london)
    client = client_for(world.analyst)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/dataset-exports/", {"table": "events", "format": "r"}, format="json")
    assert response.status_code == 202
    detail = client.get(response["Location"]).json()
    assert detail["status"] == "succeeded" and detail["format"] == "r"
    download = client.get(detail["download_url"])
    assert {"events.csv", "read_events.R", "dictionary.csv"} <= _names(download)


def test_the_api_refuses_an_unknown_table(world, client_for):
    response = client_for(world.analyst).post(
        "/api/v1/dataset-exports/", {"table": "identities", "format": "dta"}, format="json"
    )
    assert response.status_code == 400 and "table" in response.json()


def test_the_api_shows_no_one_elses_exports(world, client_for):
    job = services.export_job_request(actor=world.analyst, table="events", file_format="dta", channel="api")
    client = client_for(world.clinician_london)
    assert client.get(f"/api/v1/dataset-exports/{job.pk}/").status_code == 404
    assert client.get("/api/v1/dataset-exports/").json() == []


def test_the_purge_is_scheduled(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["dataset-export-files-purge"]
    assert schedule["task"] == tasks.export_files_purge_task.name
