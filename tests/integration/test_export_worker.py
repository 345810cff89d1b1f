"""A statistics-package export built by a real Celery worker on Redis, reported as it goes."""

from __future__ import annotations

import zipfile

import pyreadstat
import pytest
from django.utils import timezone

from access_programme.demo_cohort import seed_cohort
from analytics import services
from analytics.models import ExportJob, ExportLog
from registry.models import Role
from tests.factories import UserFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


# The worker writes export files where this test reads them: it is given the test's MEDIA_ROOT
# (tmp_path, tests/conftest.py) by tests/integration/conftest.py:worker_environment.
def test_a_worker_builds_the_export_and_the_job_offers_the_file(celery_worker_process, tmp_path):
    seed_cohort(patients=40, seed=41, as_of=timezone.localdate())
    analyst = UserFactory(username="worker_analyst", role=Role.ANALYST)
    job = services.export_job_request(actor=analyst, table="patients", file_format="sav", channel="web")

    def finished() -> bool:
        return ExportJob.objects.only("status").get(pk=job.pk).status in ("succeeded", "failed")

    assert wait_for(finished, timeout=120)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED, job.error
    assert job.row_count == 40 and job.progress_done == job.progress_total == 40

    with zipfile.ZipFile(job.file.path) as archive:
        archive.extract("patients.sav", tmp_path / "out")
    data, meta = pyreadstat.read_sav(tmp_path / "out" / "patients.sav")
    assert len(data) == 40 and meta.variable_value_labels["sex"] == {1.0: "Male", 2.0: "Female"}
    assert ExportLog.objects.get(pk=job.log_id).completed
