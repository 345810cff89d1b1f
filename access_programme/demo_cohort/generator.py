"""Patients one at a time: identity, diagnosis, enrolment, consent, then their follow-up."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from faker import Faker

from access_programme.demo_cohort.common import PROGRAMME_START, ROUTE_WEIGHTS, SITE_WEIGHTS, SITES, Chunk
from access_programme.demo_cohort.follow_up import FollowUp
from access_programme.demo_cohort.stock import DemoStock
from access_programme.eligibility import EligibilityInput, age_in_years, unmet_mirocals_criteria
from access_programme.models import Enrolment, Product, Route, RouteCode
from registry.constants import PNFH_LOW, pnfh_stratum
from registry.crypto import blind_index
from registry.models import (
    ClinicalEvent,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    EventType,
    Patient,
    PatientIdentity,
    Site,
    WithdrawalLevel,
)
from registry.nhs_number import generate_valid_nhs_number

K = TypeVar("K", bound=str)


class CohortGenerator(FollowUp):
    """Generates patients one at a time; `seed_cohort` writes them in chunks."""

    def __init__(self, *, seed: int, as_of: dt.date, sites: list[Site]) -> None:
        self.rng = random.Random(seed)
        self.faker = Faker("en_GB")
        self.faker.seed_instance(seed)
        self.as_of = as_of
        self.sites = sorted(sites, key=lambda s: s.code)
        weights = dict(zip([c for c, _, _ in SITES], SITE_WEIGHTS, strict=True))
        self.site_weights = [weights.get(s.code, 0.1) for s in self.sites]
        self.routes = {r.code: r for r in Route.objects.all()}
        self.nhs_numbers: set[str] = set()
        self.site_counters = {s.pk: s.next_patient_number for s in self.sites}
        self.stock = DemoStock(products={p.code: p for p in Product.objects.all()}, as_of=as_of)

    # ---- patients ------------------------------------------------------------------------
    def _choice(self, weighted: Mapping[K, float]) -> K:
        return self.rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def _nhs_number(self) -> str:
        while True:
            number = generate_valid_nhs_number(self.rng)
            if number not in self.nhs_numbers:
                self.nhs_numbers.add(number)
                return number

    def add_patient(self, chunk: Chunk) -> None:
        rng = self.rng
        site = rng.choices(self.sites, weights=self.site_weights)[0]
        number = self.site_counters[site.pk]
        self.site_counters[site.pk] = number + 1
        route_code = self._choice(ROUTE_WEIGHTS)
        sex = "male" if rng.random() < 0.62 else "female"
        latest_enrolment = self.as_of - dt.timedelta(days=21)
        span = max((latest_enrolment - PROGRAMME_START).days, 1)
        enrolment_date = PROGRAMME_START + dt.timedelta(days=rng.randrange(span))
        symptom_months = min(max(rng.lognormvariate(math.log(15), 0.35), 4), 60)
        onset = enrolment_date - dt.timedelta(days=round(symptom_months * 30.44))
        diagnostic_delay = min(max(rng.lognormvariate(math.log(10), 0.4), 1.5), symptom_months - 1)
        diagnosis_date = onset + dt.timedelta(days=round(diagnostic_delay * 30.44))
        age_at_onset = min(max(rng.gauss(59, 10), 25), 84)
        birth = onset - dt.timedelta(days=round(age_at_onset * 365.25))
        region = self._choice(
            {"bulbar": 0.3, "upper_limb": 0.3, "lower_limb": 0.35, "respiratory": 0.02, "generalised": 0.03}
        )
        slope = min(max(rng.lognormvariate(math.log(0.75), 0.5), 0.1), 4.0)  # points per month
        pnfh = rng.lognormvariate(math.log(1700 * (slope / 0.75) ** 0.5), 0.6)
        treated = route_code != RouteCode.NONE

        patient = Patient(site=site, study_id=f"{site.code}-{number:04d}", sex=sex, year_of_birth=birth.year)
        chunk.patients.append(patient)
        given = self.faker.first_name_male() if sex == "male" else self.faker.first_name_female()
        nhs = self._nhs_number() if site.country == "GB" else ""
        chunk.identities.append(
            PatientIdentity(
                patient=patient,
                given_name=given,
                family_name=self.faker.last_name(),
                date_of_birth=birth,
                nhs_number=nhs,
                nhs_number_hash=blind_index(nhs) if nhs else "",
            )
        )
        riluzole = None
        if rng.random() < 0.9:
            riluzole = diagnosis_date + dt.timedelta(
                days=rng.randrange(0, max((enrolment_date - diagnosis_date).days, 1))
            )
        svc = Decimal(str(round(min(max(rng.gauss(88, 15), 40), 130), 1)))
        diagnosis = Diagnosis(
            patient=patient,
            symptom_onset_date=onset,
            onset_region=region,
            diagnosis_date=diagnosis_date,
            el_escorial=self._choice(
                {"possible": 0.11, "probable_lab_supported": 0.15, "probable": 0.39, "definite": 0.35}
            ),
            riluzole_start_date=riluzole,
            svc_percent=svc,
            fvc_percent=Decimal(str(round(min(max(float(svc) + rng.gauss(2, 6), 35), 135), 1))),
            weight_kg=Decimal(str(round(min(max(rng.gauss(76 if sex == "male" else 64, 12), 38), 150), 1))),
            c9orf72=self._choice({"positive": 0.08, "negative": 0.7, "unknown": 0.22}),
            ftd=self._choice({"yes": 0.06, "no": 0.84, "unknown": 0.1}),
        )
        chunk.diagnoses.append(diagnosis)

        # Outcome times, in days from enrolment.
        hazard = 0.018 * (slope / 0.75) ** 1.1 * (pnfh / 2000) ** 0.4
        if treated and pnfh_stratum(pnfh) == PNFH_LOW:
            hazard *= 0.6
        death_day = round(rng.expovariate(hazard) * 30.44)
        withdraw_day = round(rng.expovariate(1 / 1500) * 30.44) if rng.random() < 0.3 else 10**6
        lost_day = round(rng.expovariate(1 / 2000) * 30.44) if rng.random() < 0.2 else 10**6
        horizon = (self.as_of - enrolment_date).days
        end_day = min(death_day, withdraw_day, lost_day, horizon)

        first_dose = enrolment_date + dt.timedelta(days=rng.randrange(7, 21)) if treated else None
        if first_dose and (first_dose - enrolment_date).days > end_day:
            first_dose = None
        age = age_in_years(birth, enrolment_date)
        unmet = unmet_mirocals_criteria(
            EligibilityInput(enrolment_date, age, onset, svc, diagnosis.el_escorial, riluzole)
        )
        chunk.enrolments.append(
            Enrolment(
                patient=patient,
                route=self.routes[route_code],
                enrolment_date=enrolment_date,
                first_dose_date=first_dose,
                treating_clinician=f"Dr {self.faker.last_name()}",
                meets_mirocals_criteria=not unmet,
                unmet_criteria=[c.as_dict() for c in unmet],
                eligibility_justification=(
                    "Discussed at MDT: expected benefit outweighs departure from trial criteria." if unmet else ""
                ),
            )
        )
        withdrawn_on = enrolment_date + dt.timedelta(days=withdraw_day) if withdraw_day == end_day else None
        chunk.consents.append(
            Consent(
                patient=patient,
                form_version="v1.2",
                consent_date=enrolment_date,
                consents_to_future_contact=rng.random() < 0.7,
            )
        )
        if withdrawn_on:
            chunk.withdrawals.append(
                ConsentWithdrawal(
                    patient=patient,
                    level=WithdrawalLevel.NO_FURTHER_COLLECTION,
                    effective_on=withdrawn_on,
                    reason="Patient's choice",
                    recorded_at=dt.datetime.combine(withdrawn_on, dt.time(12), tzinfo=dt.UTC),
                )
            )

        self._add_follow_up(chunk, patient, diagnosis, enrolment_date, first_dose, end_day, slope, pnfh, region)
        end_date = enrolment_date + dt.timedelta(days=end_day)
        if end_day == death_day:
            chunk.events.append(
                ClinicalEvent(
                    patient=patient,
                    event_type=EventType.DEATH,
                    event_date=end_date,
                    detail="Respiratory failure due to ALS",
                )
            )
        else:
            if end_day == withdraw_day:
                chunk.events.append(
                    ClinicalEvent(
                        patient=patient, event_type=EventType.WITHDRAWAL, event_date=end_date, detail="Patient's choice"
                    )
                )
            elif end_day == lost_day:
                chunk.events.append(
                    ClinicalEvent(patient=patient, event_type=EventType.LOST_TO_FOLLOW_UP, event_date=end_date)
                )
            chunk.events.append(
                ClinicalEvent(patient=patient, event_type=EventType.LAST_KNOWN_ALIVE, event_date=end_date)
            )
