"""A supply follows a checked prescription, may be made ahead of the cycle within the window,
may be a part supply, has a use-by date covering its last dose, and gets a second person's
accuracy check (issue 16, item 1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from access_programme import services
from access_programme.models import Dispensing, Enrolment
from registry.models import Role
from tests.factories import BatchFactory, CycleFactory, SiteFactory, UserFactory, days_ago, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return SiteFactory.create(code="GB-LON")


@pytest.fixture
def pharmacist(site):
    return UserFactory.create(username="chloe", role=Role.PHARMACIST, sites=[site])


@pytest.fixture
def checker(site):
    return UserFactory.create(username="dan", role=Role.PHARMACIST, sites=[site])


@pytest.fixture
def patient(site):
    return treated_patient(site=site)


def prescription(patient, checked_by=None, cycle_number=1, **fields):
    made = services.prescription_record(
        actor=None,
        patient=patient,
        cycle_number=cycle_number,
        prescribed_on=days_ago(0),
        prescriber="Dr Who (GMC 7654321)",
        **{"unsolicited_request": True, "special_need": "ALS, no licensed alternative", **fields},
    )
    if checked_by is not None:
        made = services.prescription_clinical_check(actor=checked_by, prescription=made)
    return made


def supply(actor, patient, start, *, rx, dispensed_on=None, days=5, batch=None, hours=168):
    on = dispensed_on or days_ago(0)
    at = timezone.make_aware(dt.datetime.combine(on, dt.time(9, 0)))
    return services.cycle_dispense(
        actor=actor,
        patient=patient,
        cycle_number=rx.cycle_number,
        start_date=start,
        batch=batch or BatchFactory(max_hours_after_reconstitution=hours),
        prescription=rx,
        dispensed_on=on,
        quantity=days,
        days_supplied=days,
        quantity_unit="syringe",
        dose_miu_per_unit=Decimal(2),
        prescriber=rx.prescriber,
        cold_chain_confirmed=True,
        reconstituted_at=at,
        beyond_use_at=at + dt.timedelta(hours=hours),
    )


def next_cycle_patient(site):
    """A patient whose cycle 1 started 23 days ago: cycle 2 is due in 5 days."""
    patient = treated_patient(site=site)
    Enrolment.objects.filter(patient=patient).update(first_dose_date=days_ago(23))
    CycleFactory(patient=patient, cycle_number=1, start_date=days_ago(23))
    return patient


def test_a_special_is_prescribed_only_on_the_prescribers_unsolicited_request(patient):
    with pytest.raises(ValidationError) as error:
        prescription(patient, unsolicited_request=False)
    assert "reg. 167" in error.value.message_dict["unsolicited_request"][0]


def test_only_a_pharmacist_makes_the_clinical_check(patient, site):
    data_manager = UserFactory.create(role=Role.DATA_MANAGER)
    with pytest.raises(PermissionDenied):
        services.prescription_clinical_check(actor=data_manager, prescription=prescription(patient))


def test_an_unchecked_prescription_cannot_be_dispensed(patient, pharmacist):
    with pytest.raises(ValidationError) as error:
        supply(
            pharmacist, patient, patient.enrolment.first_dose_date, rx=prescription(patient), dispensed_on=days_ago(84)
        )
    assert "clinically check" in error.value.message_dict["prescription"][0]


def test_a_cycle_due_in_5_days_is_dispensed_today(site, pharmacist, checker):
    patient = next_cycle_patient(site)
    rx = prescription(patient, checked_by=checker, cycle_number=2)
    dispensing = supply(pharmacist, patient, days_ago(-5), rx=rx, hours=336)
    assert (dispensing.cycle.start_date, dispensing.dispensed_on) == (days_ago(-5), days_ago(0))


def test_a_cycle_starting_beyond_the_window_is_refused(site, pharmacist, checker, settings):
    settings.PHARMACY_DISPENSE_AHEAD_DAYS = 3
    patient = next_cycle_patient(site)
    rx = prescription(patient, checked_by=checker, cycle_number=2)
    with pytest.raises(ValidationError) as error:
        supply(pharmacist, patient, days_ago(-5), rx=rx, hours=336)
    assert "at most 3 days before it starts" in error.value.message_dict["start_date"][0]


def test_the_28_day_rule_still_holds_for_the_administration_dates(site, pharmacist, checker):
    patient = next_cycle_patient(site)
    rx = prescription(patient, checked_by=checker, cycle_number=2)
    with pytest.raises(ValidationError) as error:
        supply(pharmacist, patient, days_ago(-3), rx=rx, hours=336)
    assert "26 days after cycle 1" in error.value.message_dict["start_date"][0]


def test_a_supply_must_be_usable_until_its_last_dose(site, pharmacist, checker):
    patient = next_cycle_patient(site)
    rx = prescription(patient, checked_by=checker, cycle_number=2)
    with pytest.raises(ValidationError) as error:
        supply(pharmacist, patient, days_ago(-5), rx=rx, hours=168)  # use-by day 7, last dose day 9
    assert "supply fewer days" in error.value.message_dict["days_supplied"][0]


def test_a_part_supply_is_completed_and_never_exceeds_the_cycles_5_days(site, pharmacist, checker):
    patient = next_cycle_patient(site)
    rx = prescription(patient, checked_by=checker, cycle_number=2)
    first = supply(pharmacist, patient, days_ago(-5), rx=rx, days=2, hours=168)
    batch = BatchFactory(max_hours_after_reconstitution=336)
    at = timezone.make_aware(dt.datetime.combine(days_ago(0), dt.time(10, 0)))
    fields = {
        "dispensed_on": days_ago(0),
        "quantity_unit": "syringe",
        "dose_miu_per_unit": Decimal(2),
        "prescriber": rx.prescriber,
        "cold_chain_confirmed": True,
        "reconstituted_at": at,
        "beyond_use_at": at + dt.timedelta(hours=336),
        "prescription": rx,
    }
    with pytest.raises(ValidationError) as error:
        services.dispensing_record(
            actor=pharmacist, cycle=first.cycle, batch=batch, quantity=4, days_supplied=4, **fields
        )
    assert "2 are already supplied" in error.value.message_dict["days_supplied"][0]
    rest = services.dispensing_record(
        actor=pharmacist, cycle=first.cycle, batch=batch, quantity=3, days_supplied=3, **fields
    )
    assert rest.last_administration_day() == days_ago(-5) + dt.timedelta(days=4)


def test_the_dispenser_cannot_make_the_accuracy_check(site, pharmacist, checker):
    patient = next_cycle_patient(site)
    dispensing = supply(pharmacist, patient, days_ago(-5), rx=prescription(patient, checker, 2), hours=336)
    with pytest.raises(ValidationError, match="second person"):
        services.dispensing_accuracy_check(actor=pharmacist, dispensing=dispensing)


def test_a_second_person_records_the_accuracy_check(site, pharmacist, checker):
    patient = next_cycle_patient(site)
    dispensing = supply(pharmacist, patient, days_ago(-5), rx=prescription(patient, checker, 2), hours=336)
    services.dispensing_accuracy_check(actor=checker, dispensing=dispensing)
    checked = Dispensing.objects.get(pk=dispensing.pk)
    assert checked.accuracy_checked_by == checker and checked.history.first().history_user == checker
