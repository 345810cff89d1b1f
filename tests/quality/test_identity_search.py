"""Searching by identity: roles that see identities, their own sites only, NHS number by its
keyed hash, every search logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.identity_search import identity_search
from registry.models import IdentityAccess, IdentitySearch, Role
from tests.factories import IdentityFactory, SiteFactory, UserFactory, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def london():
    return SiteFactory(code="GB-LON")


@pytest.fixture
def clinician(london):
    return UserFactory(username="alice", role=Role.CLINICIAN, sites=[london])


@pytest.fixture
def margaret(london):
    patient = treated_patient(site=london)
    IdentityFactory(patient=patient, given_name="Margaret", family_name="O'Brien-Smith", nhs_number="9434765919")
    return patient


def test_the_nhs_number_finds_its_patient_exactly(clinician, margaret):
    (found,) = identity_search(clinician, nhs_number="943 476 5919")
    assert found.patient == margaret


def test_an_invalid_nhs_number_is_refused_with_its_reason(clinician, margaret):
    with pytest.raises(ValidationError) as error:
        identity_search(clinician, nhs_number="9434765918")
    assert "nhs_number" in error.value.message_dict


def test_the_family_name_with_the_date_of_birth_finds_the_patient_whatever_the_spelling_of_case_and_hyphens(
    clinician, margaret
):
    born = margaret.identity.date_of_birth
    assert [f.patient for f in identity_search(clinician, family_name="o'brien smith", date_of_birth=born)] == [
        margaret
    ]


def test_a_family_name_alone_is_too_broad(clinician, margaret):
    with pytest.raises(ValidationError, match="family name with the given name or the date of birth"):
        identity_search(clinician, family_name="O'Brien-Smith")


def test_the_wrong_date_of_birth_finds_nobody(clinician, margaret):
    assert identity_search(clinician, family_name="O'Brien-Smith", date_of_birth=dt.date(1900, 1, 1)) == []


def test_a_patient_of_another_site_is_not_found(margaret):
    other = UserFactory(username="bob", role=Role.CLINICIAN, sites=[SiteFactory(code="GB-MAN")])
    assert identity_search(other, nhs_number="9434765919") == []


def test_a_data_manager_searches_only_the_sites_they_belong_to(margaret):
    manager = UserFactory(username="dora", role=Role.DATA_MANAGER)
    assert identity_search(manager, nhs_number="9434765919") == []


def test_an_analyst_may_not_search_by_identity(margaret):
    with pytest.raises(PermissionDenied):
        identity_search(UserFactory(username="ada", role=Role.ANALYST), nhs_number="9434765919")


def test_every_search_is_logged_with_its_fields_not_its_values_and_each_patient_shown(clinician, margaret):
    identity_search(clinician, family_name="Nobody", given_name="Zed")
    identity_search(clinician, nhs_number="9434765919")
    searches = list(IdentitySearch.objects.order_by("pk").values_list("criteria", "results"))
    assert searches == [("family_name,given_name", 0), ("nhs_number", 1)]
    assert IdentityAccess.objects.filter(user=clinician, patient=margaret, channel="identity search").count() == 1
