"""Reads for the prescription-to-label path: a cycle's prescription, a supply and its label."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models

from access_programme.models import Dispensing, Prescription, SitePharmacy, TreatmentCycle
from registry.constants import DOSING_DAYS_PER_CYCLE
from registry.models import Patient, PatientIdentity, User
from registry.selectors import identities_for_display, records_visible_to


def cycle_prescription(patient: Patient, cycle_number: int) -> Prescription | None:
    return (
        Prescription.objects.filter(patient=patient, cycle_number=cycle_number)
        .select_related("clinically_checked_by")
        .first()
    )


def part_supplied_cycle(patient: Patient) -> tuple[TreatmentCycle, int] | None:
    """The patient's last cycle and the dosing days its supplies cover, when they cover fewer
    than the cycle's 5 (a part supply to complete), else None."""
    cycle = TreatmentCycle.objects.filter(patient=patient).order_by("-cycle_number").first()
    if cycle is None:
        return None
    supplies = Dispensing.objects.filter(cycle=cycle).aggregate(
        days=models.Sum("days_supplied"), unknown=models.Count("pk", filter=models.Q(days_supplied__isnull=True))
    )
    days = int(supplies["days"] or 0)
    if supplies["unknown"] or days == 0 or days >= DOSING_DAYS_PER_CYCLE:
        return None
    return cycle, days


def visible_dispensing(user: User, pk: int) -> Dispensing | None:
    return (
        records_visible_to(user, Dispensing)
        .select_related(
            "patient__site",
            "cycle",
            "batch__product",
            "prescription",
            "dispensed_by_user",
            "accuracy_checked_by",
        )
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class Label:
    """What a named-patient dispensing label says (MHRA GN14: an unlicensed medicine)."""

    dispensing: Dispensing
    identity: PatientIdentity | None
    pharmacy: SitePharmacy | None
    first_day: dt.date
    last_day: dt.date | None
    use_by: dt.date | None


def dispensing_label(user: User, dispensing: Dispensing, *, path: str = "") -> Label:
    """The label's facts; reading the patient's name is logged as an identity access."""
    identity = identities_for_display(user, [dispensing.patient], channel="dispensing label", path=path).get(
        dispensing.patient_id
    )
    first_day = dispensing.cycle.start_date + dt.timedelta(days=dispensing.supplied_days_before())
    return Label(
        dispensing=dispensing,
        identity=identity,
        pharmacy=SitePharmacy.objects.filter(site_id=dispensing.patient.site_id).first(),
        first_day=first_day,
        last_day=dispensing.last_administration_day(),
        use_by=dispensing.use_by(),
    )
