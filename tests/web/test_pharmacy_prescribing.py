"""The pharmacy pages from prescription to label: the worklist's due date is the form's cycle
start, the steps come in order, and the label carries the named-patient fields (issue 16, item 1)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from access_programme.models import Dispensing, Enrolment, Prescription, SitePharmacy
from registry.models import IdentityAccess, Role
from tests.factories import BatchFactory, CycleFactory, IdentityFactory, UserFactory, days_ago, treated_patient
from tests.web.conftest import logged_in

pytestmark = pytest.mark.django_db


def due_in_5_days(site):
    patient = treated_patient(site=site)
    Enrolment.objects.filter(patient=patient).update(first_dose_date=days_ago(23))
    CycleFactory(patient=patient, cycle_number=1, start_date=days_ago(23))
    return patient


def test_dispensing_without_a_checked_prescription_goes_to_the_prescription_step(pharmacist_client, london):
    patient = due_in_5_days(london)
    response = pharmacist_client.get(reverse("pharmacy:dispense", args=[patient.study_id]))
    assert response.status_code == 302 and response.url == reverse("pharmacy:prescribe", args=[patient.study_id])


def prescribe_and_check(client, patient, checker_client):
    url = reverse("pharmacy:prescribe", args=[patient.study_id])
    client.post(
        url,
        {
            "prescribed_on": days_ago(0).isoformat(),
            "prescriber": "Dr A. Consultant (GMC 1234567)",
            "dose_miu": "2.00",
            "doses": 5,
            "directions": "Inject 2 MIU under the skin once a day on days 1 to 5.",
            "unsolicited_request": "on",
            "special_need": "ALS; no licensed product",
        },
    )
    checker_client.post(url, {"action": "check"})


def test_the_form_starts_the_cycle_on_the_worklists_due_date(pharmacist_client, london):
    patient = due_in_5_days(london)
    (row,) = pharmacist_client.get(reverse("pharmacy:worklist")).context["rows"]
    prescribe_and_check(pharmacist_client, patient, pharmacist_client)
    form = pharmacist_client.get(reverse("pharmacy:dispense", args=[patient.study_id])).context["form"]
    assert row.due_date == form.fields["cycle_start_date"].initial == days_ago(-5)


def test_advance_dispensing_then_a_second_persons_check_then_the_label(pharmacist, pharmacist_client, london):
    patient = due_in_5_days(london)
    IdentityFactory(patient=patient, given_name="Margaret", family_name="Testperson")
    SitePharmacy.objects.create(site=london, name="London MND Pharmacy", address="1 Queen Square, London WC1N 3BG")
    prescribe_and_check(pharmacist_client, patient, pharmacist_client)
    assert Prescription.objects.get(patient=patient).clinically_checked_by == pharmacist
    batch = BatchFactory(batch_number="SPX-LBL", max_hours_after_reconstitution=336)
    today = days_ago(0)
    response = pharmacist_client.post(
        reverse("pharmacy:dispense", args=[patient.study_id]),
        {
            "cycle_start_date": days_ago(-5).isoformat(),
            "dispensed_on": today.isoformat(),
            "batch": batch.pk,
            "quantity": 5,
            "days_supplied": 5,
            "dose_miu_per_unit": "2.000",
            "prescriber": "Dr A. Consultant (GMC 1234567)",
            "reconstituted_at": f"{today.isoformat()}T09:00",
            "beyond_use_at": f"{(today + dt.timedelta(days=13)).isoformat()}T09:00",
            "cold_chain_confirmed": "on",
        },
    )
    dispensing = Dispensing.objects.get(patient=patient)
    assert response.url == reverse("pharmacy:dispensing_detail", args=[dispensing.pk])
    detail = reverse("pharmacy:dispensing_detail", args=[dispensing.pk])
    assert pharmacist_client.post(detail).status_code == 400  # the dispenser may not check their own supply
    second = logged_in(UserFactory.create(role=Role.PHARMACIST, sites=[london]))
    assert second.post(detail).status_code == 302
    label = pharmacist_client.get(reverse("pharmacy:dispensing_label", args=[dispensing.pk]))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(label.content)).pages)
    text = " ".join(text.split())
    for expected in (
        "Margaret Testperson",
        patient.study_id,
        "SPX-LBL",
        "2 MIU per prefilled syringe",
        "Inject 2 MIU under the skin",
        f"Use by: {(today + dt.timedelta(days=13)):%d %b %Y}",
        "2–8 °C",
        "UNLICENSED MEDICINE",
        "KEEP OUT OF THE SIGHT AND REACH OF CHILDREN",
        "London MND Pharmacy, 1 Queen Square",
        f"Dispensed {today:%d %b %Y}",
    ):
        assert expected in text, expected
    assert IdentityAccess.objects.filter(patient=patient, channel="dispensing label").exists()


def due_in(site, days: int):
    patient = treated_patient(site=site)
    Enrolment.objects.filter(patient=patient).update(first_dose_date=days_ago(28 - days))
    CycleFactory(patient=patient, cycle_number=1, start_date=days_ago(28 - days))
    return patient


@pytest.mark.parametrize(
    ("days", "badge"), [(7, "In 7 days"), (3, "In 3 days"), (0, "Due today"), (-3, "Overdue 3 days")]
)
def test_the_worklist_and_the_form_show_the_same_dates_and_the_form_as_filled_in_is_accepted(
    pharmacist_client, london, days, badge
):
    """Issue 16: the worklist offered cycles due in 3-6 days that the form then refused."""
    patient = due_in(london, days)
    due = days_ago(-days)
    worklist = pharmacist_client.get(reverse("pharmacy:worklist"))
    (row,) = worklist.context["rows"]
    assert (
        row.due_date == due and f"{due:%a %d %b %Y}" in worklist.content.decode() and badge in worklist.content.decode()
    )
    prescribe_and_check(pharmacist_client, patient, pharmacist_client)
    page = pharmacist_client.get(reverse("pharmacy:dispense", args=[patient.study_id]))
    shown = " ".join(page.content.decode().split())
    assert f"due {due:%d %b %Y}" in shown and ("overdue" in shown) == (days < 0)
    form = page.context["form"]
    start, supplied = form.fields["cycle_start_date"].initial, form.fields["dispensed_on"].initial
    assert (start, supplied) == (max(due, days_ago(0)), days_ago(0))  # an overdue cycle starts today
    batch = BatchFactory(max_hours_after_reconstitution=336)
    response = pharmacist_client.post(
        reverse("pharmacy:dispense", args=[patient.study_id]),
        {
            "cycle_start_date": start.isoformat(),
            "dispensed_on": supplied.isoformat(),
            "batch": batch.pk,
            "quantity": form.fields["quantity"].initial,
            "days_supplied": form.fields["days_supplied"].initial,
            "dose_miu_per_unit": "2.000",
            "prescriber": form.fields["prescriber"].initial,
            "reconstituted_at": f"{supplied.isoformat()}T09:00",
            "beyond_use_at": f"{(supplied + dt.timedelta(days=13)).isoformat()}T09:00",
            "cold_chain_confirmed": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    supply = Dispensing.objects.get(patient=patient)
    assert (supply.cycle.start_date, supply.dispensed_on) == (start, supplied)
