"""Writing the generated cohort: chunk by chunk, each row with its audit entry, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from django.db import transaction
from django.db.models import Model

from access_programme.demo_cohort.common import DEMO_REASON, SITES, Chunk, SeedResult
from access_programme.demo_cohort.generator import CohortGenerator
from access_programme.models import Dispensing, Enrolment, TreatmentCycle
from access_programme.next_due import next_due_refresh
from registry.bulk import bulk_insert_with_history
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    Patient,
    PatientIdentity,
    Site,
)

M = TypeVar("M", bound=Model)


def ensure_sites() -> list[Site]:
    for code, name, country in SITES:
        Site.objects.get_or_create(code=code, defaults={"name": name, "country": country})
    return list(Site.objects.filter(code__in=[code for code, _, _ in SITES]).order_by("code"))


def _write_chunk(chunk: Chunk, result: SeedResult) -> None:
    def write(objs: Sequence[M], model: type[M], prepare: Callable[[M], None] | None = None) -> None:
        if not objs:
            return
        for obj in objs:
            if prepare:
                prepare(obj)
        bulk_insert_with_history(objs, model, reason=DEMO_REASON)
        result.add(model.__name__.lower(), len(objs))  # the model_name Django derives

    def relink(obj: Model) -> None:
        obj.patient_id = obj.patient.pk  # type: ignore[attr-defined]  # every record written here has a patient

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
        (chunk.withdrawals, ConsentWithdrawal),
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

        def relink_dispensing(obj: Dispensing) -> None:
            relink(obj)
            obj.cycle_id = cycle_ids[(obj.patient_id, obj.cycle.cycle_number)]

        write(chunk.dispensings, Dispensing, relink_dispensing)
    next_due_refresh(p.pk for p in chunk.patients)  # as the enrolment and cycle services do
    result.patients += len(chunk.patients)


def _chunks(generator: CohortGenerator, total: int, size: int) -> Iterator[Chunk]:
    done = 0
    while done < total:
        chunk = Chunk()
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
        result.add("batch", generator.stock.create_batches())
        for chunk in _chunks(generator, patients, chunk_size):
            _write_chunk(chunk, result)
            if progress:
                progress(result.patients, patients)
        generator.stock.finish_batches()
        for site in sites:
            Site.objects.filter(pk=site.pk).update(next_patient_number=generator.site_counters[site.pk])
    return result
