"""Personas shared by the API and dataset tests: two sites, one patient each, a user per role,
and a factory for a patient with a row in every table. Imported by tests/api and tests/dataset conftests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from registry.models import Patient, Role, Site, User
from tests.factories import IdentityFactory, SiteFactory, UserFactory, prescribed, treated_patient


@dataclass
class World:
    london: Site
    sheffield: Site
    london_patient: Patient
    sheffield_patient: Patient
    clinician_london: User
    clinician_sheffield: User
    pharmacist_london: User
    analyst: User
    data_manager: User


@pytest.fixture
def world(db) -> World:
    london, sheffield = SiteFactory.create(code="GB-LON"), SiteFactory.create(code="GB-SHF")
    london_patient, sheffield_patient = treated_patient(site=london), treated_patient(site=sheffield)
    IdentityFactory(patient=london_patient, nhs_number="9434765919")
    IdentityFactory(patient=sheffield_patient, nhs_number="9434765870", given_name="Bartholomew")
    return World(
        london=london,
        sheffield=sheffield,
        london_patient=london_patient,
        sheffield_patient=sheffield_patient,
        clinician_london=UserFactory.create(username="clin_lon", role=Role.CLINICIAN, sites=[london]),
        clinician_sheffield=UserFactory.create(username="clin_shf", role=Role.CLINICIAN, sites=[sheffield]),
        pharmacist_london=UserFactory.create(username="pharm_lon", role=Role.PHARMACIST, sites=[london]),
        analyst=UserFactory.create(username="analyst", role=Role.ANALYST),
        data_manager=UserFactory.create(username="dm", role=Role.DATA_MANAGER),
    )


@pytest.fixture
def client_for():
    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


ITEMS = {
    "q1_speech": 4,
    "q2_salivation": 4,
    "q3_swallowing": 3,
    "q4_handwriting": 3,
    "q5a_cutting_without_gastrostomy": 3,
    "q6_dressing_hygiene": 3,
    "q7_turning_in_bed": 3,
    "q8_walking": 2,
    "q9_climbing_stairs": 2,
    "q10_dyspnoea": 4,
    "q11_orthopnoea": 4,
    "q12_respiratory_insufficiency": 4,
}


@pytest.fixture
def full_patient(db):
    """Make a treated patient with one row in every table (identity, consent, ALSFRS-R, biomarker, …)."""
    import datetime as dt
    import random
    from decimal import Decimal

    from access_programme import services as programme
    from registry import services
    from registry.models import Consent
    from registry.nhs_number import generate_valid_nhs_number
    from tests.factories import BatchFactory, days_ago

    rng = random.Random(7)

    def make(site: Site, given_name: str = "Margaret") -> Patient:
        patient = treated_patient(site=site)
        IdentityFactory(patient=patient, given_name=given_name, nhs_number=generate_valid_nhs_number(rng))
        services.audited_save(Consent(patient=patient, form_version="v1", consent_date=days_ago(90)), actor=None)
        services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(20), **ITEMS)
        services.biomarker_record(
            actor=None,
            patient=patient,
            sample_date=days_ago(95),
            analyte="csf_pnfh",
            reported_value=Decimal("1800"),
            reported_unit="pg/mL",
            assay="Ella",
        )
        services.outcome_record(actor=None, patient=patient, event_type="niv_start", event_date=days_ago(10))
        services.adverse_event_record(
            actor=None,
            patient=patient,
            term="Injection site reaction",
            onset_date=days_ago(80),
            ctcae_grade=1,
            relatedness="probable",
        )
        cycle = prescribed(programme.cycle_start(actor=None, patient=patient, cycle_number=1, start_date=days_ago(84)))
        reconstituted = dt.datetime.combine(days_ago(85), dt.time(9), tzinfo=dt.UTC)
        programme.dispensing_record(
            actor=None,
            cycle=cycle,
            batch=BatchFactory.create(),
            dispensed_on=days_ago(85),
            quantity=5,
            days_supplied=5,
            quantity_unit="syringe",
            dose_miu_per_unit=Decimal("2.000"),
            prescriber="Dr A. Consultant",
            dispensed_by="Pharmacist",
            reconstituted_at=reconstituted,
            beyond_use_at=reconstituted + dt.timedelta(hours=168),
            cold_chain_confirmed=True,
        )
        return patient

    return make
