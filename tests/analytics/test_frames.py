"""The analysis frames read through PostgreSQL's COPY are the frames the row-by-row reader makes."""

from __future__ import annotations

import pandas as pd
import pytest
from django.core.management import call_command

from analytics import dataset, selectors
from registry.models import Diagnosis

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def cohort() -> None:
    call_command("seed_demo", "--patients", "120", "--seed", "7", "--as-of", "2026-11-01", "--no-users", stdout=None)


def frames_read_by(reader, monkeypatch) -> dict[str, pd.DataFrame]:
    monkeypatch.setattr(selectors, "_frame", reader)
    return selectors.dataset_frames(None)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values as NaN whatever their Python spelling (None from rows, NaN from CSV)."""
    return frame.astype(object).where(frame.notna(), float("nan"))


def test_every_input_frame_holds_the_same_values_by_copy_and_by_rows(cohort, monkeypatch):
    by_copy = frames_read_by(selectors._frame_by_copy, monkeypatch)
    by_rows = frames_read_by(selectors._frame_by_rows, monkeypatch)
    assert by_copy.keys() == by_rows.keys()
    for name in by_copy:
        assert len(by_copy[name]) > 0, name
        pd.testing.assert_frame_equal(comparable(by_copy[name]), comparable(by_rows[name]), obj=name)


def test_the_patient_dataset_is_identical_by_copy_and_by_rows(cohort, monkeypatch):
    by_copy = dataset.build_patient_dataset(**frames_read_by(selectors._frame_by_copy, monkeypatch))
    by_rows = dataset.build_patient_dataset(**frames_read_by(selectors._frame_by_rows, monkeypatch))
    assert len(by_copy) == 120
    pd.testing.assert_frame_equal(by_copy, by_rows)


def test_an_empty_string_is_not_read_as_missing(cohort):
    Diagnosis.objects.filter(pk=Diagnosis.objects.order_by("pk").values("pk")[:1]).update(onset_region="")
    queryset = Diagnosis.objects.order_by("pk").values_list("onset_region", "svc_percent")
    frame = selectors._frame_by_copy(queryset, ["onset_region", "svc_percent"])
    assert frame.loc[0, "onset_region"] == ""
    assert frame["svc_percent"].dtype == "float64"
