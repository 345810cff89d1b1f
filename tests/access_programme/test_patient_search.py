"""The study-id search (the patient list's search box, the admin's) on PostgreSQL: answered from the
trigram index of registry/migrations/0018, whatever part of the id is typed, case aside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from access_programme.selectors import patient_list
from registry.models import Patient, Role
from tests.factories import TODAY, PatientFactory, UserFactory
from tests.plans import planner_paths_off

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@contextmanager
def only_bitmap_scans() -> Iterator[None]:
    """Every other way to the rows switched off: a plan then reads the trigram index only if it
    answers the query's own condition (the expression Django writes for `icontains`)."""
    with planner_paths_off("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
        yield


def _plan(queryset) -> str:
    with only_bitmap_scans():
        return queryset.explain()


def test_a_search_by_part_of_a_study_id_reads_the_trigram_index():
    assert "patient_study_id_trgm" in _plan(Patient.objects.filter(study_id__icontains="lon-012"))


def test_the_patient_lists_search_reads_the_trigram_index():
    data_manager = UserFactory(role=Role.DATA_MANAGER)
    assert "patient_study_id_trgm" in _plan(patient_list(data_manager, today=TODAY, query="012"))


def test_the_indexed_search_finds_the_same_patients_in_any_case():
    wanted = PatientFactory(study_id="GB-LON-0123")
    PatientFactory(study_id="GB-LON-0456")
    search = Patient.objects.filter(study_id__icontains="lon-012")
    with only_bitmap_scans():
        assert "patient_study_id_trgm" in search.explain()
        assert list(search) == [wanted]
