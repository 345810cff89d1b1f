"""A realistic synthetic cohort for the demo and the benchmarks.

Deterministic for a given seed and reference date. Natural history follows the domain
reference: ALSFRS-R decline around 0.9 points/month (PRECISION-ALS), CSF pNFH spread so that
about 70 % fall in the MIROCALS low stratum (750-3700 pg/mL) and about 20 % above it, and a
death hazard that rises with progression rate and pNFH. Patients are written in chunks via
simple-history's bulk helpers, so memory stays flat and every row still has its audit entry.
NHS numbers use the 999 test range, which is never issued to a real patient.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Model
from faker import Faker
from simple_history.utils import bulk_update_with_history

from access_programme.eligibility import EligibilityInput, age_in_years, unmet_mirocals_criteria
from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Enrolment,
    Product,
    ProductCode,
    QuantityUnit,
    Route,
    RouteCode,
    TreatmentCycle,
)
from registry import scoring
from registry.bulk import bulk_insert_with_history
from registry.constants import CYCLE_LENGTH_DAYS, PNFH_LOW, pnfh_stratum
from registry.crypto import blind_index
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    Diagnosis,
    EventType,
    Patient,
    PatientIdentity,
    Site,
    User,
)
from registry.nhs_number import generate_valid_nhs_number

SITES = [
    ("GB-LON", "London MND Care Centre", "GB"),
    ("GB-SHF", "Sheffield MND Care Centre", "GB"),
    ("GB-OXF", "Oxford MND Care Centre", "GB"),
    ("GB-EDI", "Edinburgh MND Care Centre", "GB"),
    ("GB-MAN", "Manchester MND Care Centre", "GB"),
    ("FR-PAR", "Paris ALS Reference Centre", "FR"),
]
SITE_WEIGHTS = [0.26, 0.2, 0.14, 0.14, 0.14, 0.12]
ROUTE_WEIGHTS = {RouteCode.NHS_SPECIALS: 0.45, RouteCode.MANAGED_ACCESS: 0.35, RouteCode.NONE: 0.20}
PROGRAMME_START = dt.date(2025, 6, 1)
DEMO_REASON = "Synthetic demo cohort"
# Item weights for how each onset region spreads functional loss over the 12 items.
_REGION_WEIGHTS = {
    "bulbar": [3, 2.5, 3, 1, 1, 0.8, 0.8, 0.7, 0.7, 1, 0.8, 0.6],
    "upper_limb": [0.8, 0.6, 0.7, 3, 3, 2, 1.2, 1, 1, 0.9, 0.7, 0.6],
    "lower_limb": [0.7, 0.5, 0.6, 1, 1, 1.5, 2, 3, 3, 0.9, 0.7, 0.6],
    "respiratory": [0.7, 0.5, 0.7, 0.8, 0.8, 1, 1, 1, 1, 3, 2.5, 2.5],
    "generalised": [1.2, 1, 1.2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.2, 1, 1],
}
_ITEMS = [f for f in scoring.ITEM_FIELDS if f != "q5b_cutting_with_gastrostomy"]


@dataclass
class SeedResult:
    patients: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    skipped: bool = False

    def add(self, name: str, count: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + count


@dataclass
class _BatchStock:
    batch: Batch
    remaining: int


@dataclass
class _Chunk:
    patients: list[Patient] = field(default_factory=list)
    identities: list[PatientIdentity] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    assessments: list[AlsfrsrAssessment] = field(default_factory=list)
    biomarkers: list[BiomarkerResult] = field(default_factory=list)
    events: list[ClinicalEvent] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    cycles: list[TreatmentCycle] = field(default_factory=list)
    dispensings: list[Dispensing] = field(default_factory=list)


def ensure_sites() -> list[Site]:
    for code, name, country in SITES:
        Site.objects.get_or_create(code=code, defaults={"name": name, "country": country})
    return list(Site.objects.filter(code__in=[code for code, _, _ in SITES]).order_by("code"))


class CohortGenerator:
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
        self.products = {p.code: p for p in Product.objects.all()}
        self.nhs_numbers: set[str] = set()
        self.site_counters = {s.pk: s.next_patient_number for s in self.sites}
        self.stock: dict[str, list[_BatchStock]] = {}

    # ---- batches -------------------------------------------------------------------------
    def create_batches(self) -> int:
        """Batches received every six weeks over the programme, ample stock, one recalled, one quarantined."""
        batches: list[Batch] = []
        for code, prefix, shelf_days, unit in (
            (ProductCode.PROLEUKIN_SPECIALS, "SPX", 180, QuantityUnit.SYRINGE),
            (ProductCode.ILT_101, "ILT", 365, QuantityUnit.SYRINGE),
        ):
            product = self.products[code]
            received = PROGRAMME_START - dt.timedelta(days=30)
            number = 1
            while received <= self.as_of:
                batches.append(
                    Batch(
                        product=product,
                        batch_number=f"{prefix}{received:%y%m}-{number:03d}",
                        expiry_date=received + dt.timedelta(days=shelf_days),
                        supplier="Synthetic Specials Ltd" if product.is_unlicensed_special else "ILTOO Pharma",
                        manufacturer_licence="MS 12345" if product.is_unlicensed_special else "",
                        max_hours_after_reconstitution=168 if product.is_unlicensed_special else None,
                        received_on=received,
                        quantity_received=1_000_000,
                        quantity_remaining=1_000_000,
                        quantity_unit=unit,
                        dose_miu_per_unit=Decimal("2.000"),
                        storage_location="Pharmacy fridge 2",
                        certificate_reference=f"CoC-{prefix}-{number:03d}",
                    )
                )
                received += dt.timedelta(days=42)
                number += 1
        bulk_insert_with_history(batches, Batch, reason=DEMO_REASON)
        created = list(
            Batch.objects.filter(batch_number__in=[b.batch_number for b in batches]).select_related("product")
        )
        for batch in created:
            self.stock.setdefault(batch.product.code, []).append(_BatchStock(batch, batch.quantity_received))
        for stocks in self.stock.values():
            stocks.sort(key=lambda s: (s.batch.expiry_date, s.batch.batch_number))
        return len(created)

    def _pick_batch(self, product_code: str, on: dt.date, quantity: int) -> Batch:
        for stock in self.stock[product_code]:  # first expiry, first out
            usable = stock.batch.received_on <= on and stock.batch.expiry_date >= on + dt.timedelta(days=7)
            if usable and stock.remaining >= quantity:
                stock.remaining -= quantity
                return stock.batch
        raise RuntimeError(f"No usable {product_code} batch on {on}")

    def finish_batches(self) -> None:
        """Write final stock, then quarantine one unused and recall one used batch (with reasons)."""
        batches = []
        for stocks in self.stock.values():
            for stock in stocks:
                stock.batch.quantity_remaining = stock.remaining
                batches.append(stock.batch)
        bulk_update_with_history(
            batches, Batch, ["quantity_remaining"], default_change_reason="Demo stock after dispensing"
        )
        specials = self.stock.get(ProductCode.PROLEUKIN_SPECIALS, [])
        used = [s.batch for s in specials if s.remaining < s.batch.quantity_received]
        unused = [s.batch for s in specials if s.remaining == s.batch.quantity_received]
        if used:
            recalled = used[len(used) // 2]
            recalled.status, recalled.status_reason = BatchStatus.RECALLED, "Demo: sterility failure on retained sample"
            bulk_update_with_history([recalled], Batch, ["status", "status_reason"], default_change_reason="Recall")
        if unused:
            held = unused[-1]
            held.status, held.status_reason = BatchStatus.QUARANTINED, "Demo: fridge excursion to 11 °C in transit"
            bulk_update_with_history([held], Batch, ["status", "status_reason"], default_change_reason="Quarantine")

    # ---- patients ------------------------------------------------------------------------
    def _choice(self, weighted: dict[str, float]) -> str:
        return self.rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def _nhs_number(self) -> str:
        while True:
            number = generate_valid_nhs_number(self.rng)
            if number not in self.nhs_numbers:
                self.nhs_numbers.add(number)
                return number

    def add_patient(self, chunk: _Chunk) -> None:
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
                withdrawn_on=withdrawn_on,
                withdrawal_scope="no_further_collection" if withdrawn_on else "",
                withdrawal_reason="Patient's choice" if withdrawn_on else "",
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

    def _items(self, loss: float, weights: list[float], gastrostomy: bool) -> dict[str, int]:
        total_weight = sum(weights)
        items: dict[str, int] = {}
        for name, weight in zip(_ITEMS, weights, strict=True):
            items[name] = max(0, 4 - min(4, round(loss * weight / total_weight * 1.15)))
        if gastrostomy:
            items["q5b_cutting_with_gastrostomy"] = items.pop("q5a_cutting_without_gastrostomy")
            items["q5a_cutting_without_gastrostomy"] = None  # type: ignore[assignment]
        else:
            items["q5b_cutting_with_gastrostomy"] = None  # type: ignore[assignment]
        return items

    def _add_follow_up(
        self,
        chunk: _Chunk,
        patient: Patient,
        diagnosis: Diagnosis,
        enrolment_date: dt.date,
        first_dose: dt.date | None,
        end_day: int,
        slope: float,
        pnfh: float,
        region: str,
    ) -> None:
        rng = self.rng
        weights = [w * rng.uniform(0.7, 1.3) for w in _REGION_WEIGHTS[region]]
        onset = diagnosis.symptom_onset_date
        end_date = enrolment_date + dt.timedelta(days=end_day)
        gastrostomy_on: dt.date | None = None
        niv_on: dt.date | None = None
        treated = first_dose is not None
        benefit = 0.8 if treated and pnfh_stratum(pnfh) == PNFH_LOW else 1.0
        for day in self._visit_days(diagnosis.diagnosis_date, enrolment_date, end_day, treated):
            when = enrolment_date + dt.timedelta(days=day)
            months_from_onset = (when - onset).days / 30.44
            months_on = max(day, 0) / 30.44
            loss = slope * (months_from_onset - months_on) + slope * benefit * months_on
            loss = min(loss * rng.uniform(0.95, 1.05), 47.0)
            items = self._items(loss, weights, gastrostomy_on is not None and when >= gastrostomy_on)
            scores = scoring.score(items)
            if gastrostomy_on is None and scores.bulbar <= 6 and when < end_date:
                gastrostomy_on = when + dt.timedelta(days=rng.randrange(7, 30))
                if gastrostomy_on <= end_date:
                    chunk.events.append(
                        ClinicalEvent(patient=patient, event_type=EventType.GASTROSTOMY, event_date=gastrostomy_on)
                    )
                else:
                    gastrostomy_on = None
            if niv_on is None and items["q12_respiratory_insufficiency"] < 4 and when < end_date:
                niv_on = when
                chunk.events.append(ClinicalEvent(patient=patient, event_type=EventType.NIV_START, event_date=when))
            assessment = AlsfrsrAssessment(patient=patient, assessment_date=when, **items)
            assessment.derive_scores(onset)
            chunk.assessments.append(assessment)

        self._add_biomarkers(chunk, patient, enrolment_date, end_date, pnfh, slope, treated)
        if treated:
            self._add_cycles(chunk, patient, first_dose, end_date)  # type: ignore[arg-type]
        self._add_adverse_events(chunk, patient, enrolment_date, first_dose, end_date)

    def _visit_days(self, diagnosis: dt.date, enrolment: dt.date, end_day: int, treated: bool) -> list[int]:
        """Days (from enrolment) of ALSFRS-R assessments.

        The clinic's 3-monthly history since diagnosis comes with the patient; after enrolment,
        treated patients are assessed at each 28-day cycle visit, untreated ones every 3 months.
        """
        rng = self.rng
        history: list[int] = []
        day = -rng.randrange(77, 106)
        while enrolment + dt.timedelta(days=day) >= diagnosis:
            history.append(day)
            day -= rng.randrange(77, 106)
        follow_up = []
        day = 0
        while day <= end_day:
            follow_up.append(day)
            day += rng.randrange(26, 31) if treated else rng.randrange(77, 106)
        return [*reversed(history), *follow_up]

    def _add_biomarkers(
        self,
        chunk: _Chunk,
        patient: Patient,
        enrolment: dt.date,
        end: dt.date,
        pnfh: float,
        slope: float,
        treated: bool,
    ) -> None:
        rng = self.rng

        def result(day: int, analyte: str, value: float, unit: str, assay: str) -> None:
            when = enrolment + dt.timedelta(days=day)
            if when > end or when > self.as_of:
                return
            amount = Decimal(str(round(value, 1)))
            chunk.biomarkers.append(
                BiomarkerResult(
                    patient=patient,
                    sample_date=when,
                    analyte=analyte,
                    value=amount,
                    unit=unit,
                    reported_value=amount,
                    reported_unit=unit,
                    assay=assay,
                    laboratory="Synthetic Neurochemistry Lab",
                )
            )

        if rng.random() < 0.85:
            result(-rng.randrange(0, 45), "csf_pnfh", pnfh, "pg/mL", "ProteinSimple Ella pNF-H")
        nfl = rng.lognormvariate(math.log(60 * (slope / 0.75) ** 0.6), 0.4)
        treg = rng.gauss(6.0, 1.3)
        for visit, day in enumerate(range(0, (end - enrolment).days + 1, 182)):
            result(day + 1, "serum_nfl", nfl * (1 + 0.02 * visit), "pg/mL", "Quanterix Simoa NF-light")
            result(
                day + 1, "treg_percent_cd4", min(treg * (1.35 if treated and day else 1.0), 30), "%", "Flow cytometry"
            )
        result(1, "plasma_ccl2", rng.lognormvariate(math.log(320), 0.3), "pg/mL", "R&D Systems MCP-1 ELISA")

    def _add_cycles(self, chunk: _Chunk, patient: Patient, first_dose: dt.date, end: dt.date) -> None:
        rng = self.rng
        product_code = (
            ProductCode.PROLEUKIN_SPECIALS
            if chunk.enrolments[-1].route.code == RouteCode.NHS_SPECIALS
            else ProductCode.ILT_101
        )
        start = first_dose
        number = 1
        while start <= end and start <= self.as_of:
            dosing_done = start + dt.timedelta(days=5) <= self.as_of
            interrupted = dosing_done and rng.random() < 0.07
            days = rng.randrange(2, 5) if interrupted else 5
            reason = rng.choice(["Injection-site reaction", "Intercurrent infection", "Patient unwell, admitted"])
            if start + dt.timedelta(days=days) > end:  # death or withdrawal during dosing
                days = max((end - start).days, 0)
                interrupted, reason = dosing_done and days < 5, "Stopped: death or withdrawal during the cycle"
            if not dosing_done:  # still in progress at the data cut
                days = min(days, (self.as_of - start).days)
            cycle = TreatmentCycle(
                patient=patient,
                cycle_number=number,
                start_date=start,
                days_administered=days,
                total_dose_miu=Decimal(2) * days,
                interrupted=interrupted,
                interruption_reason=reason if interrupted else "",
            )
            chunk.cycles.append(cycle)
            dispensed_on = start - dt.timedelta(days=rng.randrange(0, 3))
            batch = self._pick_batch(product_code, dispensed_on, 5)
            special = product_code == ProductCode.PROLEUKIN_SPECIALS
            reconstituted = dt.datetime.combine(dispensed_on, dt.time(9, 30), tzinfo=dt.UTC)
            chunk.dispensings.append(
                Dispensing(
                    patient=patient,
                    cycle=cycle,
                    batch=batch,
                    dispensed_on=dispensed_on,
                    quantity=5,
                    quantity_unit=QuantityUnit.SYRINGE,
                    dose_miu_per_unit=Decimal("2.000"),
                    prescriber="Dr A. Consultant (GMC 1234567)",
                    dispensed_by="Demo Pharmacist",
                    reconstituted_at=reconstituted if special else None,
                    beyond_use_at=reconstituted + dt.timedelta(hours=168) if special else None,
                    cold_chain_confirmed=True,
                    cold_chain_temperature_c=Decimal(str(round(rng.uniform(3, 7), 1))),
                )
            )
            number += 1
            start = start + dt.timedelta(days=CYCLE_LENGTH_DAYS + (rng.randrange(1, 8) if rng.random() < 0.1 else 0))

    def _add_adverse_events(
        self, chunk: _Chunk, patient: Patient, enrolment: dt.date, first_dose: dt.date | None, end: dt.date
    ) -> None:
        rng = self.rng

        def add(
            onset: dt.date, term: str, grade: int, relatedness: str, serious: bool = False, **criteria: bool
        ) -> None:
            if onset > end or onset > self.as_of:
                return
            resolution = onset + dt.timedelta(days=rng.randrange(1, 15))
            resolved = resolution <= min(end, self.as_of)
            chunk.adverse_events.append(
                AdverseEvent(
                    patient=patient,
                    term=term,
                    onset_date=onset,
                    ctcae_grade=grade,
                    serious=serious,
                    relatedness=relatedness,
                    resolution_date=resolution if resolved else None,
                    outcome="recovered" if resolved else "recovering",
                    action_taken="none",
                    **{f"criterion_{k}": v for k, v in criteria.items()},
                )
            )

        if first_dose is not None:
            if rng.random() < 0.3:
                add(first_dose + dt.timedelta(days=rng.randrange(0, 5)), "Injection site reaction", 1, "probable")
            if rng.random() < 0.15:
                add(
                    first_dose + dt.timedelta(days=rng.randrange(0, 60)),
                    "Flu like symptoms",
                    rng.choice([1, 2]),
                    "possible",
                )
        if rng.random() < 0.05:
            add(
                enrolment + dt.timedelta(days=rng.randrange(30, 300)),
                "Aspiration pneumonia",
                3,
                "not_related",
                serious=True,
                hospitalisation=True,
            )


def _write_chunk(chunk: _Chunk, result: SeedResult) -> None:
    def write(objs: list[Model], model: type[Model], prepare: Callable[[Model], None] | None = None) -> None:
        if not objs:
            return
        for obj in objs:
            if prepare:
                prepare(obj)
        bulk_insert_with_history(objs, model, reason=DEMO_REASON)
        result.add(model._meta.model_name, len(objs))

    def relink(obj: Model) -> None:
        obj.patient_id = obj.patient.pk  # type: ignore[attr-defined]

    write(chunk.patients, Patient)
    saved = dict(
        Patient.objects.filter(study_id__in=[p.study_id for p in chunk.patients]).values_list("study_id", "pk")
    )
    for patient in chunk.patients:
        patient.pk = saved[patient.study_id]
    for objs, model in (
        (chunk.identities, PatientIdentity),
        (chunk.diagnoses, Diagnosis),
        (chunk.consents, Consent),
        (chunk.enrolments, Enrolment),
        (chunk.assessments, AlsfrsrAssessment),
        (chunk.biomarkers, BiomarkerResult),
        (chunk.events, ClinicalEvent),
        (chunk.adverse_events, AdverseEvent),
        (chunk.cycles, TreatmentCycle),
    ):
        write(objs, model, relink)
    if chunk.cycles:
        cycle_ids = {
            (patient_id, number): pk
            for patient_id, number, pk in TreatmentCycle.objects.filter(
                patient_id__in=[p.pk for p in chunk.patients]
            ).values_list("patient_id", "cycle_number", "pk")
        }

        def relink_dispensing(obj: Model) -> None:
            relink(obj)
            obj.cycle_id = cycle_ids[(obj.patient_id, obj.cycle.cycle_number)]  # type: ignore[attr-defined]

        write(chunk.dispensings, Dispensing, relink_dispensing)
    result.patients += len(chunk.patients)


def _chunks(generator: CohortGenerator, total: int, size: int) -> Iterator[_Chunk]:
    done = 0
    while done < total:
        chunk = _Chunk()
        for _ in range(min(size, total - done)):
            generator.add_patient(chunk)
        done += len(chunk.patients)
        yield chunk


def seed_cohort(
    *,
    patients: int,
    seed: int,
    as_of: dt.date,
    chunk_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Create the demo cohort unless patients already exist (so a second run changes nothing)."""
    result = SeedResult()
    if Patient.objects.exists():
        result.skipped = True
        return result
    sites = ensure_sites()
    generator = CohortGenerator(seed=seed, as_of=as_of, sites=sites)
    with transaction.atomic():
        result.add("batch", generator.create_batches())
        for chunk in _chunks(generator, patients, chunk_size):
            _write_chunk(chunk, result)
            if progress:
                progress(result.patients, patients)
        generator.finish_batches()
        for site in sites:
            Site.objects.filter(pk=site.pk).update(next_patient_number=generator.site_counters[site.pk])
    return result


DEMO_USERS = [
    ("clinician.lon", "Alice", "Hughes", "clinician", ["GB-LON"], False),
    ("clinician.shf", "Ben", "Okafor", "clinician", ["GB-SHF"], False),
    ("pharmacist.lon", "Chloe", "Patel", "pharmacist", ["GB-LON"], False),
    ("analyst", "Dev", "Sharma", "analyst", [], False),
    ("datamanager", "Erin", "Walsh", "data_manager", [], True),
]


def ensure_demo_users(make_password: Callable[[], str]) -> list[tuple[str, str, str]]:
    """Create missing demo users; returns (username, role, password) for those just created."""
    created: list[tuple[str, str, str]] = []
    for username, first, last, role, site_codes, staff in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        password = make_password()
        user = User.objects.create_user(
            username=username, password=password, first_name=first, last_name=last, role=role, is_staff=staff
        )
        if staff:
            from django.contrib.auth.models import Permission

            user.user_permissions.set(
                Permission.objects.filter(content_type__app_label__in=["registry", "access_programme"])
            )
        user.sites.set(Site.objects.filter(code__in=site_codes))
        created.append((username, role, password))
    return created
