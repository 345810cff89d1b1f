"""Cold-chain excursions quarantine the batches concerned until decided (issue 16, item 3);
a recall flags every recipient until a clinician acknowledges it (item 4); an adverse event
shows the batches received in the cycle before onset, and a batch its recipients' events (4a)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from access_programme import selectors, services
from access_programme.models import Batch, BatchStatus, Product, RecallNotice
from access_programme.stock import services as stock
from registry import services as clinical
from registry.models import Role
from tests.factories import BatchFactory, SiteFactory, UserFactory, days_ago, supplied, treated_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def london():
    return SiteFactory.create(code="GB-LON")


@pytest.fixture
def pharmacist(london):
    return UserFactory.create(username="chloe", role=Role.PHARMACIST, sites=[london])


@pytest.fixture
def clinician(london):
    return UserFactory.create(username="alice", role=Role.CLINICIAN, sites=[london])


def received(actor, site, number="ILT-1", fridge="Fridge A"):
    batch = stock.batch_goods_in(
        actor=actor,
        product=Product.objects.get(code="ilt_101"),
        site=site,
        delivery_note="DN-1",
        batch_number=number,
        expiry_date=days_ago(-200),
        supplier="ILTOO Pharma",
        received_on=days_ago(100),
        quantity_received=20,
        quantity_unit="syringe",
        dose_miu_per_unit=Decimal(2),
        storage_location=fridge,
    )
    return services.batch_release(actor=actor, batch=batch, reason="Certificate checked")


def excursion(actor, site, **target):
    return stock.excursion_record(
        actor=actor,
        site=site,
        detected_at=timezone.now() - dt.timedelta(hours=2),
        detected_by="Night porter",
        min_temperature_c=Decimal("7.5"),
        max_temperature_c=Decimal("12.0"),
        duration_minutes=95,
        **target,
    )


def test_a_fridge_excursion_quarantines_every_batch_held_in_that_fridge(pharmacist, london):
    in_a, in_b = received(pharmacist, london, "ILT-A"), received(pharmacist, london, "ILT-B", fridge="Fridge B")
    excursion(pharmacist, london, fridge="Fridge A")
    statuses = dict(Batch.objects.values_list("batch_number", "status"))
    assert statuses == {in_a.batch_number: BatchStatus.QUARANTINED, in_b.batch_number: BatchStatus.AVAILABLE}


def test_a_batch_under_investigation_cannot_be_released_or_dispensed(pharmacist, london):
    batch = received(pharmacist, london)
    excursion(pharmacist, london, batch=batch)
    with pytest.raises(ValidationError, match="under investigation"):
        services.batch_release(actor=pharmacist, batch=Batch.objects.get(pk=batch.pk), reason="Looks fine")
    assert batch not in selectors.usable_batches(batch.product, days_ago(0))


def test_an_excursion_decided_use_releases_the_batch(pharmacist, london):
    batch = received(pharmacist, london)
    found = excursion(pharmacist, london, batch=batch)
    stock.excursion_decide(actor=pharmacist, excursion=found, disposition="use", reason="Stability data: 24 h at 25 °C")
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.AVAILABLE


def test_a_disposition_needs_its_reason(pharmacist, london):
    found = excursion(pharmacist, london, batch=received(pharmacist, london))
    with pytest.raises(ValidationError):
        stock.excursion_decide(actor=pharmacist, excursion=found, disposition="destroy", reason=" ")


def test_a_recall_flags_every_recipient_until_a_clinician_acknowledges(pharmacist, clinician, london):
    batch = BatchFactory()
    first, second = treated_patient(site=london), treated_patient(site=london)
    for patient in (first, second):
        supplied(patient, batch)
    services.batch_recall(actor=pharmacist, batch=batch, reason="Sterility failure")
    assert selectors.open_recall_patient_ids([first.pk, second.pk]) == {first.pk, second.pk}
    notice = RecallNotice.objects.get(patient=first)
    with pytest.raises(PermissionDenied):
        services.recall_notice_acknowledge(actor=pharmacist, notice=notice, note="Called")
    services.recall_notice_acknowledge(actor=clinician, notice=notice, note="Called; no reaction")
    assert selectors.open_recall_patient_ids([first.pk, second.pk]) == {second.pk}


def test_a_recalled_batch_is_never_released(pharmacist):
    batch = services.batch_recall(actor=pharmacist, batch=BatchFactory(), reason="Sterility failure")
    with pytest.raises(ValidationError):
        services.batch_release(actor=pharmacist, batch=batch, reason="Mistake")


def test_an_expired_batch_reads_expired_not_available():
    batch = BatchFactory.build(expiry_date=days_ago(1))
    assert batch.status_on(days_ago(0)) == "Expired"


def test_stock_reads_in_whole_units_with_the_unit():
    assert BatchFactory.build(quantity_remaining=35).stock_display == "35 prefilled syringes"


def test_an_adverse_event_shows_the_batch_of_the_cycle_before_onset(pharmacist, london):
    patient = treated_patient(site=london)
    batch = BatchFactory(batch_number="SPX-AE")
    supplied(patient, batch)
    ae = clinical.adverse_event_record(
        actor=None,
        patient=patient,
        term="Injection-site reaction",
        ctcae_grade=1,
        onset_date=days_ago(80),
        serious=False,
        relatedness="probable",
    )
    overview = selectors.patient_overview(
        selectors.patient_page_queryset(pharmacist).get(pk=patient.pk), pharmacist, days_ago(0)
    )
    assert overview.batches_before_onset(overview.adverse_events[0]) == ["SPX-AE"]
    assert selectors.batch_recipient_adverse_events(pharmacist, batch) == selectors.RecipientAdverseEvents(
        [ae], more=False
    )
