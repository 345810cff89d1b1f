"""Follow-up of one demo patient: ALSFRS-R visits, events, biomarkers, cycles and dispensings, AEs."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from access_programme.demo_cohort.common import ITEMS, REGION_WEIGHTS, Chunk
from access_programme.demo_cohort.stock import DemoStock
from access_programme.models import Dispensing, ProductCode, QuantityUnit, RouteCode, TreatmentCycle
from registry import scoring
from registry.constants import CYCLE_LENGTH_DAYS, PNFH_LOW, pnfh_stratum
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Diagnosis,
    EventType,
    Patient,
)


class FollowUp:
    """The records that follow enrolment; mixed into `CohortGenerator`, which sets these attributes."""

    rng: random.Random
    as_of: dt.date
    stock: DemoStock

    def _items(self, loss: float, weights: list[float], gastrostomy: bool) -> dict[str, int | None]:
        total_weight = sum(weights)
        items: dict[str, int | None] = {}
        for name, weight in zip(ITEMS, weights, strict=True):
            items[name] = max(0, 4 - min(4, round(loss * weight / total_weight * 1.15)))
        if gastrostomy:
            items["q5b_cutting_with_gastrostomy"] = items.pop("q5a_cutting_without_gastrostomy")
            items["q5a_cutting_without_gastrostomy"] = None
        else:
            items["q5b_cutting_with_gastrostomy"] = None
        return items

    def _add_follow_up(
        self,
        chunk: Chunk,
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
        weights = [w * rng.uniform(0.7, 1.3) for w in REGION_WEIGHTS[region]]
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
            respiratory = items["q12_respiratory_insufficiency"]  # always scored (only item 5 has a blank)
            if niv_on is None and respiratory is not None and respiratory < 4 and when < end_date:
                niv_on = when
                chunk.events.append(ClinicalEvent(patient=patient, event_type=EventType.NIV_START, event_date=when))
            assessment = AlsfrsrAssessment(patient=patient, assessment_date=when, **items)
            assessment.derive_scores(onset)
            chunk.assessments.append(assessment)

        self._add_biomarkers(chunk, patient, enrolment_date, end_date, pnfh, slope, treated)
        if first_dose is not None:  # treated
            self._add_cycles(chunk, patient, first_dose, end_date)
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
        chunk: Chunk,
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

    def _add_cycles(self, chunk: Chunk, patient: Patient, first_dose: dt.date, end: dt.date) -> None:
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
            batch = self.stock.pick_batch(product_code, dispensed_on, 5)
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
        self, chunk: Chunk, patient: Patient, enrolment: dt.date, first_dose: dt.date | None, end: dt.date
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
