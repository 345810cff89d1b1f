"""A pharmacist's accountability journeys in headless Chromium (issue 16, "Done when"):
receipt, release, advance dispensing with a label, a return, a witnessed destruction and a
balanced reconciliation; an excursion quarantining a batch; a recall reaching the recipients'
pages until a clinician acknowledges it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from access_programme.models import (
    Batch,
    BatchStatus,
    Dispensing,
    Enrolment,
    Product,
    RecallNotice,
    SiteStock,
    StockMovement,
)
from registry.models import Role, Site, User
from tests.browser.conftest import PASSWORD
from tests.factories import BatchFactory, CycleFactory, SiteFactory, supplied, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TODAY = timezone.localdate()


def account(username: str, role: str, *sites: Site) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, first_name=username.title())
    user.sites.set(sites)
    return user


def submit(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def due_in_5_days(site):
    patient = treated_patient(site=site, route="managed_access")
    Enrolment.objects.filter(patient=patient).update(first_dose_date=TODAY - dt.timedelta(days=23))
    CycleFactory(patient=patient, cycle_number=1, start_date=TODAY - dt.timedelta(days=23))
    return patient


def receive(page, live_server, number: str) -> None:
    page.goto(f"{live_server.url}/pharmacy/batches/receive/")
    page.get_by_label("Product").select_option(label=Product.objects.get(code="ilt_101").name)
    page.get_by_label("Delivery note").fill("DN-2026-118")
    page.get_by_label("Batch number").fill(number)
    page.get_by_label("Expiry date").fill((TODAY + dt.timedelta(days=200)).isoformat())
    page.get_by_label("Supplier").fill("ILTOO Pharma")
    page.get_by_label("Quantity received").fill("20")
    page.get_by_label("Quantity unit").select_option("syringe")
    page.get_by_label("Dose per unit (MIU)").fill("2")
    page.get_by_label("Storage location").fill("Fridge A")
    submit(page, "Receive into quarantine")


def release(page) -> None:
    page.get_by_label("Release: make the batch available again").check()
    page.get_by_label("Reason").fill("Certificate of conformity checked")
    submit(page, "Change status")


def test_receipt_release_advance_dispensing_label_return_destruction_reconciliation(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON")
    account("chloe", Role.PHARMACIST, london)
    patient = due_in_5_days(london)
    sign_in(page, "chloe")

    receive(page, live_server, "ILT-JOURNEY")
    batch = Batch.objects.get(batch_number="ILT-JOURNEY")
    assert batch.status == BatchStatus.QUARANTINED
    release(page)
    batch.refresh_from_db()
    assert (batch.status, batch.released_by.username) == (BatchStatus.AVAILABLE, "chloe")
    assert "Released by" in page.content()

    page.goto(f"{live_server.url}/pharmacy/")
    page.get_by_role("link", name=f"Dispense cycle 2 for {patient.study_id}").click()
    page.get_by_role("textbox", name="Prescriber").fill("Dr A. Consultant (GMC 1234567)")
    submit(page, "Record the prescription")
    submit(page, "Record my clinical check")
    due = TODAY + dt.timedelta(days=5)
    assert page.get_by_label("Cycle start (day 1)").input_value() == due.isoformat()  # the worklist's due date
    page.get_by_label("ILT-JOURNEY", exact=False).check()
    page.get_by_label("Cold chain confirmed: stored at 2–8 °C throughout").check()
    submit(page, "Dispense and take from stock")
    supply = Dispensing.objects.get(patient=patient)
    assert (supply.cycle.start_date, supply.dispensed_on, supply.days_supplied) == (due, TODAY, 5)

    label = page.request.get(f"{live_server.url}/pharmacy/dispensings/{supply.pk}/label.pdf")
    assert label.ok and label.headers["content-type"] == "application/pdf" and label.body()[:4] == b"%PDF"

    page.get_by_role("link", name="Record a return").click()
    page.get_by_label("Units returned").fill("2")
    page.get_by_label("Unused").check()
    submit(page, "Record the return")
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == 15  # a return is never restocked

    page.goto(f"{live_server.url}/pharmacy/batches/{batch.pk}/stock/")
    destroy = page.locator("section", has=page.get_by_role("heading", name="Destroy"))
    destroy.get_by_label("Patient returns held").check()
    destroy.get_by_label("Quantity").fill("2")
    destroy.get_by_label("Method of destruction").fill("Denatured, cytotoxic sharps bin")
    destroy.get_by_label("Witness").fill("Dan Jones")
    submit(page, "Record the destruction")
    kinds = list(StockMovement.objects.filter(batch=batch).values_list("kind", flat=True))
    assert kinds == ["receipt", "returned", "destroyed_return"]

    page.goto(f"{live_server.url}/pharmacy/reconciliation/")
    assert "No discrepancy" in page.content()
    row = page.locator("tr", has=page.get_by_role("rowheader", name="GB-LON"))
    assert "Balanced" in row.inner_text()
    assert SiteStock.objects.get(batch=batch, site=london).quantity == 15


def test_an_excursion_quarantines_the_batch(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON")
    account("chloe", Role.PHARMACIST, london)
    sign_in(page, "chloe")
    receive(page, live_server, "ILT-WARM")
    release(page)
    page.goto(f"{live_server.url}/pharmacy/excursions/")
    page.get_by_label("Batch", exact=True).select_option(label=str(Batch.objects.get(batch_number="ILT-WARM")))
    page.get_by_label("Detected at").fill(f"{TODAY.isoformat()}T07:30")
    page.get_by_label("Detected by").fill("Night porter")
    page.get_by_label("Minimum temperature (°C)").fill("8.5")
    page.get_by_label("Maximum temperature (°C)").fill("14.0")
    page.get_by_label("Duration (minutes)").fill("95")
    submit(page, "Record and quarantine")
    assert Batch.objects.get(batch_number="ILT-WARM").status == BatchStatus.QUARANTINED
    assert "Under investigation" in page.get_by_test_id("excursion").inner_text()


def test_a_recall_flags_the_recipients_pages_until_a_clinician_acknowledges(browser, live_server, sign_in):
    london = SiteFactory(code="GB-LON")
    account("chloe", Role.PHARMACIST, london)
    account("alice", Role.CLINICIAN, london)
    batch = BatchFactory(batch_number="SPX-RECALL")
    recipients = [treated_patient(site=london) for _ in range(2)]
    for patient in recipients:
        supplied(patient, batch)
    pharmacy, clinic = browser.new_context().new_page(), browser.new_context().new_page()
    sign_in(pharmacy, "chloe")
    pharmacy.goto(f"{live_server.url}/pharmacy/batches/{batch.pk}/")
    pharmacy.get_by_label("Recall: the batch must not be used", exact=False).check()
    pharmacy.get_by_label("Reason").fill("Sterility failure reported by the manufacturer")
    submit(pharmacy, "Change status")
    assert Batch.objects.get(pk=batch.pk).status != BatchStatus.RECALLED  # not without the confirmation
    pharmacy.get_by_label("I confirm the recall", exact=False).check()
    submit(pharmacy, "Change status")
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.RECALLED
    assert pharmacy.get_by_role("button", name="Change status").count() == 0  # no Release on a recalled batch

    sign_in(clinic, "alice")
    first = recipients[0]
    clinic.goto(f"{live_server.url}/patients/{first.study_id}/")
    assert "Recalled batch SPX-RECALL" in clinic.get_by_test_id("recall-notice").inner_text()
    clinic.get_by_label("What was done").fill("Phoned: no reaction; reviewed in clinic")
    submit(clinic, "Acknowledge the recall")
    assert clinic.get_by_test_id("recall-notice").count() == 0
    clinic.goto(f"{live_server.url}/patients/{recipients[1].study_id}/")
    assert clinic.get_by_test_id("recall-notice").count() == 1
    assert RecallNotice.objects.filter(acknowledged_at__isnull=True).count() == 1
