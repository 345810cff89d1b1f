"""An import keeps each batch's count of distinct recipients (`Batch.recipient_count`) as the
dispensing service does: a patient once per batch, however many supplies and chunks, and a
re-import of the same supplies changes nothing (issue 18, item 3)."""

from __future__ import annotations

import pytest

from access_programme.models import Batch
from tests.interchange.conftest import CLEAN, run_import

pytestmark = pytest.mark.django_db


def recipient_counts() -> dict[str, int]:
    return {b.batch_number: b.recipient_count for b in Batch.objects.all()}


@pytest.fixture
def imported_batches(sites):
    run_import(CLEAN, chunk_size=1)  # a patient's supplies of a batch across chunks
    return recipient_counts()


def test_an_import_counts_each_patient_once_per_batch_and_a_reimport_changes_nothing(imported_batches):
    assert imported_batches == {"SPX-T-001": 1, "ILT-T-001": 1}  # GB-LON-0001 thrice, GB-LON-0002 twice
    run_import(CLEAN)
    assert recipient_counts() == imported_batches
