"""factory-boy factories: a valid, treated, living patient by default."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from access_programme.models import Batch, Dispensing, Enrolment, Prescription, Product, Route, TreatmentCycle
from access_programme.next_due import next_due_refresh
from access_programme.recipients import recipient_count_refill
from registry.models import Diagnosis, Patient, PatientIdentity, Role, Site, User
from registry.scoring import ITEM_FIELDS, MAX_ITEM_SCORE, Q5B

TODAY = timezone.localdate()

#: ALSFRS-R items of a patient with no loss of function and no gastrostomy (scored on 5a, 5b left
#: empty): merge in the items that differ.
NORMAL_ALSFRSR_ITEMS: dict[str, int | None] = dict.fromkeys(ITEM_FIELDS, MAX_ITEM_SCORE) | {Q5B: None}


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


class AuditedFactory(DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> object:
        from registry.services import audited_save

        return audited_save(model_class(*args, **kwargs), actor=None, reason="")


class SiteFactory(DjangoModelFactory[Site]):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"GB-S{n:03d}")
    name = factory.LazyAttribute(lambda o: f"{o.code} MND Centre")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    role = Role.CLINICIAN

    @factory.post_generation
    def sites(self, create: bool, extracted: list[Site] | None, **kwargs: object) -> None:
        if create and extracted:
            self.sites.set(extracted)


class PatientFactory(AuditedFactory):
    class Meta:
        model = Patient

    site = factory.SubFactory(SiteFactory)
    study_id = factory.LazyAttributeSequence(lambda o, n: f"{o.site.code}-{n + 1:04d}")
    sex = "female"
    year_of_birth = factory.LazyFunction(lambda: TODAY.year - 60)


class IdentityFactory(AuditedFactory):
    class Meta:
        model = PatientIdentity

    patient = factory.SubFactory(PatientFactory)
    given_name = "Margaret"
    family_name = "Testperson"
    date_of_birth = factory.LazyAttribute(lambda o: dt.date(o.patient.year_of_birth, 3, 14))
    nhs_number = "9434765919"


class DiagnosisFactory(AuditedFactory):
    class Meta:
        model = Diagnosis

    patient = factory.SubFactory(PatientFactory)
    symptom_onset_date = factory.LazyFunction(lambda: days_ago(400))
    onset_region = "lower_limb"
    diagnosis_date = factory.LazyFunction(lambda: days_ago(120))
    el_escorial = "probable"
    riluzole_start_date = factory.LazyFunction(lambda: days_ago(100))
    svc_percent = Decimal("85.0")
    fvc_percent = Decimal("88.0")


class _KeepsNextDue(AuditedFactory):
    """Enrolments and cycles made here leave the enrolment's kept due dates as the services would."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> object:
        record = super()._create(model_class, *args, **kwargs)
        next_due_refresh([record.patient_id])  # type: ignore[attr-defined]  # both have a patient
        return record


class EnrolmentFactory(_KeepsNextDue):
    class Meta:
        model = Enrolment

    patient = factory.SubFactory(PatientFactory)
    route = factory.LazyFunction(lambda: Route.objects.get(code="nhs_specials"))
    enrolment_date = factory.LazyFunction(lambda: days_ago(90))
    first_dose_date = factory.LazyFunction(lambda: days_ago(84))


def treated_patient(site: Site | None = None, route: str = "nhs_specials", **patient_fields: object) -> Patient:
    """A diagnosed patient enrolled on a treatment route with a first dose 84 days ago."""
    patient: Patient = PatientFactory.create(**({"site": site} if site else {}), **patient_fields)
    DiagnosisFactory(patient=patient)
    EnrolmentFactory(patient=patient, route=Route.objects.get(code=route))
    return patient


class CycleFactory(_KeepsNextDue):
    class Meta:
        model = TreatmentCycle

    patient = factory.SubFactory(PatientFactory)
    cycle_number = 1
    start_date = factory.LazyFunction(lambda: days_ago(84))
    days_administered = 5
    total_dose_miu = Decimal("10.00")


class BatchFactory(AuditedFactory):
    class Meta:
        model = Batch

    product = factory.LazyFunction(lambda: Product.objects.get(code="proleukin_specials"))
    batch_number = factory.Sequence(lambda n: f"SPX-{n:04d}")
    expiry_date = factory.LazyFunction(lambda: days_ago(-120))
    supplier = "Synthetic Specials Ltd"
    manufacturer_licence = "MS 12345"
    max_hours_after_reconstitution = 168
    received_on = factory.LazyFunction(lambda: days_ago(100))
    quantity_received = 50
    quantity_remaining = 50
    quantity_unit = "syringe"
    dose_miu_per_unit = Decimal("2.000")


class PrescriptionFactory(AuditedFactory):
    """The prescriber's order for a cycle, clinically checked (a supply is refused without one)."""

    class Meta:
        model = Prescription

    patient = factory.SubFactory(PatientFactory)
    cycle_number = 1
    prescribed_on = factory.LazyFunction(lambda: days_ago(90))
    prescriber = "Dr Who (GMC 7654321)"
    unsolicited_request = True
    special_need = "ALS; no licensed alternative"
    clinically_checked_at = factory.LazyFunction(timezone.now)


def prescribed(cycle: TreatmentCycle) -> TreatmentCycle:
    """The cycle, with its checked prescription recorded (as the pharmacy does before a supply)."""
    PrescriptionFactory(patient=cycle.patient, cycle_number=cycle.cycle_number)
    return cycle


def supplied(
    patient: Patient, batch: Batch, cycle_number: int = 1, *, on: dt.date | None = None, **fields: Any
) -> Dispensing:
    """The patient's cycle `cycle_number`, supplied from `batch` on `on` (by default the cycle's
    day on the 28-day schedule from the first dose); `fields` override the supply's own. Written
    past the services, as a past record is, with the batch's kept recipient count refilled as the
    demo cohort's seeding refills it."""
    if on is None:
        first_dose = patient.enrolment.first_dose_date
        assert first_dose is not None, f"{patient} has no first dose: supply a treated patient or give `on`"
        on = first_dose + dt.timedelta(days=28 * (cycle_number - 1))
    cycle = TreatmentCycle.objects.create(
        patient=patient, cycle_number=cycle_number, start_date=on, total_dose_miu=Decimal(10)
    )
    values: dict[str, Any] = {"prescriber": "Dr X", **fields}
    dispensing = Dispensing.objects.create(
        patient=patient,
        cycle=cycle,
        batch=batch,
        dispensed_on=on,
        quantity=5,
        quantity_unit="syringe",
        dose_miu_per_unit=Decimal(2),
        cold_chain_confirmed=True,
        **values,
    )
    recipient_count_refill([batch.pk])
    return dispensing


def api_key_for(user: User, scope: str = "write") -> str:
    """The key of a new API token of `user` (as the user would create it on their tokens page)."""
    from registry.services.accounts import api_token_create

    _, key = api_token_create(actor=user, name="test client", scope=scope, expires_on=TODAY + dt.timedelta(days=30))
    return key


def delete_every_dispensing() -> None:
    """Wipe a test's scratch cohort of its supplies. On PostgreSQL a trigger rightly refuses to
    delete a specials supply younger than 5 years (reg. 170, tests/access_programme/
    test_specials_retention.py), so the products lose their specials flag for the delete and get
    it back after. Tests only: nothing in the registry may do this."""
    specials = list(Product.objects.filter(is_unlicensed_special=True).values_list("pk", flat=True))
    Product.objects.filter(pk__in=specials).update(is_unlicensed_special=False)
    Dispensing.objects.all().delete()
    Product.objects.filter(pk__in=specials).update(is_unlicensed_special=True)


def pnfh_recorded(patient, days: int, value: str, unit: str = "ng/mL", assay: str = "ProteinSimple Ella pNF-H"):
    """A CSF pNFH result recorded through the service `days` ago, as a clinician would enter it."""
    from registry import services

    return services.biomarker_record(
        actor=None,
        patient=patient,
        sample_date=days_ago(days),
        analyte="csf_pnfh",
        reported_value=Decimal(value),
        reported_unit=unit,
        assay=assay,
    )
