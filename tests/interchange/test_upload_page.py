"""The upload page: data managers only; the import runs as a task after commit; progress is polled."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from interchange.models import ImportRun, ImportStatus
from interchange.services import import_run_execute
from registry.models import Patient, Role
from tests.conftest import login_with_second_factor
from tests.factories import UserFactory
from tests.interchange.conftest import CLEAN

pytestmark = pytest.mark.django_db
UPLOAD = reverse("interchange:upload")


def cohort_zip() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(CLEAN.glob("*.csv")):
            archive.write(path, f"clean/{path.name}")
    return SimpleUploadedFile("clean.zip", buffer.getvalue(), content_type="application/zip")


def csv_uploads() -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(p.name, p.read_bytes(), content_type="text/csv") for p in sorted(CLEAN.glob("*.csv"))]


@pytest.fixture
def manager(client, sites):
    user = UserFactory(username="erin", role=Role.DATA_MANAGER)
    login_with_second_factor(client, user)
    return user


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.PHARMACIST, Role.ANALYST])
def test_only_data_managers_may_open_or_use_the_upload_page(client, sites, role):
    login_with_second_factor(client, UserFactory(role=role))
    assert client.get(UPLOAD).status_code == 403
    assert client.post(UPLOAD, {"files": cohort_zip()}).status_code == 403
    assert not ImportRun.objects.exists() and not Patient.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(UPLOAD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_upload_page_lists_recent_imports(client, manager):
    ImportRun.objects.create(created_by=manager, source_name="site-a.zip", status=ImportStatus.SUCCEEDED)
    response = client.get(UPLOAD)
    assert response.status_code == 200 and b"site-a.zip" in response.content


def test_an_uploaded_zip_is_imported_after_the_request_commits(client, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOAD, {"files": cohort_zip()})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("interchange:run_detail", args=[run.pk])
    assert (run.status, run.rows_created, run.created_by) == (ImportStatus.SUCCEEDED, 30, manager)
    assert set(Patient.history.values_list("history_user", flat=True)) == {manager.pk}


def test_the_import_starts_after_the_request_commits_not_inside_it(client, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(UPLOAD, {"files": cohort_zip()})
    run = ImportRun.objects.get()
    assert (run.status, Patient.objects.exists(), len(callbacks)) == (ImportStatus.PENDING, False, 1)
    callbacks[0]()  # the commit: the task is sent (run eagerly here)
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED and Patient.objects.exists()


def test_the_cohorts_csv_files_can_be_uploaded_together(client, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(UPLOAD, {"files": csv_uploads()})
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED and run.rows_created == 30


def test_csv_files_without_patients_csv_are_refused(client, manager):
    files = [f for f in csv_uploads() if f.name != "patients.csv"]
    response = client.post(UPLOAD, {"files": files})
    assert response.status_code == 200
    assert "patients.csv is missing" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_the_run_page_polls_while_the_import_runs(client, manager):
    run = ImportRun.objects.create(
        created_by=manager,
        source_name="x.zip",
        status=ImportStatus.RUNNING,
        rows_total=200,
        rows_done=50,
        current_file="alsfrs_r.csv",
    )
    page = client.get(reverse("interchange:run_detail", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page and "50 of 200 rows (25%)" in page
    fragment = client.get(reverse("interchange:run_detail", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<section id="run-status"')


def test_the_run_page_stops_polling_and_shows_problems_when_finished(
    client, manager, clean_files, tmp_path, django_capture_on_commit_callbacks
):
    clean_files["patients.csv"][1]["sex"] = "M"
    from tests.interchange.conftest import write_cohort

    folder = write_cohort(tmp_path / "bad", clean_files)
    archive = shutil.make_archive(str(tmp_path / "bad"), "zip", root_dir=folder)
    upload = SimpleUploadedFile("bad.zip", Path(archive).read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOAD, {"files": upload})
    page = client.get(response["Location"]).content.decode()
    assert "hx-trigger" not in page
    assert "sex: &#x27;M&#x27; is not one of: male, female." in page
    run = ImportRun.objects.get()
    report = client.get(reverse("interchange:run_report", args=[run.pk]))
    assert report["Content-Type"] == "text/csv"
    assert b"GB-LON-0002" in b"".join(report.streaming_content)


def test_a_run_that_is_not_pending_is_not_started_again(manager):
    run = ImportRun.objects.create(created_by=manager, source_name="x.zip", status=ImportStatus.SUCCEEDED)
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED and run.started_at is None
