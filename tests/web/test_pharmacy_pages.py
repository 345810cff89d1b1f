"""Pharmacy pages: the worklist, dispensing a cycle from usable stock, and the batch register."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from access_programme import selectors
from access_programme import services as programme
from access_programme.models import Batch, BatchStatus, Dispensing, Prescription, Route, TreatmentCycle
from registry import services
from registry.models import Role
from tests.factories import (
    BatchFactory,
    CycleFactory,
    DiagnosisFactory,
    EnrolmentFactory,
    PatientFactory,
    UserFactory,
    days_ago,
    supplied,
    treated_patient,
)
from tests.web.conftest import logged_in

pytestmark = [pytest.mark.requirement("PHA-01"), pytest.mark.django_db]
WORKLIST = reverse("pharmacy:worklist")
# Exact, the same for 1 or 5 patients (three pages of 2; the session is read from the cache): user,
# OTP device check, request savepoints, the user's site ids, the total (the enrolments' site and
# due date index alone), the page's ids, the page's annotated rows, the page's open recall
# notices, session save.
WORKLIST_QUERIES = 12


def due_in(site, days: int):
    """A treated patient whose next cycle is due in `days` days (negative: overdue)."""
    patient = treated_patient(site=site)
    CycleFactory(patient=patient, cycle_number=1, start_date=days_ago(84))
    CycleFactory(patient=patient, cycle_number=2, start_date=days_ago(28 - days))
    return patient


def rows(client) -> list[str]:
    return [row.patient.study_id for row in client.get(WORKLIST).context["rows"]]


def test_the_worklist_lists_cycles_due_within_7_days_overdue_first(pharmacist_client, london):
    soon, overdue, later = due_in(london, 5), due_in(london, -3), due_in(london, 8)
    assert rows(pharmacist_client) == [overdue.study_id, soon.study_id]
    assert later.study_id not in rows(pharmacist_client)


def test_the_worklist_leaves_out_the_dead_and_the_untreated(pharmacist_client, london):
    dead = due_in(london, 0)
    services.outcome_record(actor=None, patient=dead, event_type="death", event_date=days_ago(1))
    untreated = PatientFactory(site=london)
    DiagnosisFactory(patient=untreated)
    EnrolmentFactory(patient=untreated, route=Route.objects.get(code="none"), first_dose_date=None)
    assert dead.study_id not in rows(pharmacist_client) and untreated.study_id not in rows(pharmacist_client)


def test_the_worklist_shows_only_the_pharmacists_sites(pharmacist_client, london, sheffield):
    due_in(sheffield, 0)
    assert rows(pharmacist_client) == []


def test_the_worklist_is_paged_by_due_date_overdue_first_with_the_total_shown(pharmacist_client, london, monkeypatch):
    monkeypatch.setattr(selectors.worklist, "WORKLIST_PAGE_SIZE", 2)
    by_days = {days: due_in(london, days) for days in (3, -2, 0, -5, 6)}
    pages = [
        [row.patient.study_id for row in pharmacist_client.get(WORKLIST, {"page": n}).context["rows"]]
        for n in (1, 2, 3)
    ]
    assert pages == [
        [by_days[-5].study_id, by_days[-2].study_id],
        [by_days[0].study_id, by_days[3].study_id],
        [by_days[6].study_id],
    ]
    content = pharmacist_client.get(WORKLIST, {"page": 2}).content.decode()
    assert "5 patients due, page 2 of 3." in content
    assert 'href="?page=3" rel="next"' in content and 'href="?page=1" rel="prev"' in content


@pytest.mark.parametrize(("asked", "shown", "rows_shown"), [("9", 2, 1), ("0", 1, 2), ("last", 1, 2)])
def test_a_worklist_page_out_of_range_shows_the_nearest_page(
    pharmacist_client, london, monkeypatch, asked, shown, rows_shown
):
    monkeypatch.setattr(selectors.worklist, "WORKLIST_PAGE_SIZE", 2)
    for days in (1, 2, 3):
        due_in(london, days)
    response = pharmacist_client.get(WORKLIST, {"page": asked})
    assert (response.context["page"].number, len(response.context["rows"])) == (shown, rows_shown)
    assert f"3 patients due, page {shown} of 2." in response.content.decode()


def test_each_worklist_row_shows_its_cycle_and_how_late_it_is(pharmacist_client, london):
    late = due_in(london, -4)
    (row,) = pharmacist_client.get(WORKLIST).context["rows"]
    assert (row.patient, row.cycle_number, row.due_date, row.days_overdue) == (late, 3, days_ago(4), 4)
    assert "Overdue 4 days" in pharmacist_client.get(WORKLIST).content.decode()


@pytest.mark.parametrize("patients", [1, 5])
def test_the_worklist_costs_the_same_queries_for_any_number_of_patients(
    pharmacist, london, patients, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(selectors.worklist, "WORKLIST_PAGE_SIZE", 2)  # 5 patients: three pages
    for _ in range(patients):
        due_in(london, 2)
    client = logged_in(pharmacist)
    with django_assert_num_queries(WORKLIST_QUERIES):
        assert client.get(WORKLIST).status_code == 200


def test_clinicians_cannot_open_the_worklist(clinician_client):
    assert clinician_client.get(WORKLIST).status_code == 403


def batch_choices(client, patient) -> list[str]:
    prescribed(patient)
    form = client.get(reverse("pharmacy:dispense", args=[patient.study_id])).context["form"]
    return [batch.batch_number for batch in form.fields["batch"].queryset]


def test_the_batch_picker_offers_usable_batches_first_expiry_first(pharmacist_client, london):
    patient = treated_patient(site=london)
    later = BatchFactory(batch_number="LATE", expiry_date=days_ago(-200))
    sooner = BatchFactory(batch_number="SOON", expiry_date=days_ago(-30))
    BatchFactory(batch_number="OLD", expiry_date=days_ago(1), received_on=days_ago(200))
    BatchFactory(batch_number="HELD", status=BatchStatus.QUARANTINED, status_reason="Fridge excursion")
    BatchFactory(batch_number="EMPTY", quantity_remaining=0)
    assert batch_choices(pharmacist_client, patient) == [sooner.batch_number, later.batch_number]


def prescribed(patient, cycle_number: int = 1, on: dt.date | None = None):
    """The cycle's prescription (the prescriber's unsolicited request for a special), clinically
    checked by a pharmacist of the patient's site."""
    prescription = programme.prescription_record(
        actor=None,
        patient=patient,
        cycle_number=cycle_number,
        prescribed_on=on or patient.enrolment.first_dose_date,
        prescriber="Dr A. Consultant (GMC 1234567)",
        unsolicited_request=True,
        special_need="ALS: low-dose IL-2 is not available as a licensed product.",
    )
    checker = UserFactory.create(role=Role.PHARMACIST, sites=[patient.site])
    return programme.prescription_clinical_check(actor=checker, prescription=prescription)


def dispense_data(patient, batch, **overrides) -> dict[str, object]:
    start = patient.enrolment.first_dose_date
    if not Prescription.objects.filter(patient=patient, cycle_number=1).exists():
        prescribed(patient)
    data = {
        "cycle_start_date": start.isoformat(),
        "dispensed_on": start.isoformat(),
        "batch": batch.pk,
        "quantity": 5,
        "days_supplied": 5,
        "dose_miu_per_unit": "2.000",
        "prescriber": "Dr A. Consultant (GMC 1234567)",
        "reconstituted_at": f"{start.isoformat()}T09:00",
        "beyond_use_at": f"{(start + dt.timedelta(days=6)).isoformat()}T09:00",
        "cold_chain_confirmed": "on",
    }
    return {**data, **overrides}


def test_dispensing_opens_the_cycle_and_takes_stock_in_one_go(pharmacist_client, london):
    patient, batch = treated_patient(site=london), BatchFactory(quantity_received=40, quantity_remaining=40)
    response = pharmacist_client.post(
        reverse("pharmacy:dispense", args=[patient.study_id]), dispense_data(patient, batch)
    )
    assert response.status_code == 302
    assert Dispensing.objects.get(patient=patient).cycle.cycle_number == 1
    assert Batch.objects.get(pk=batch.pk).quantity_remaining == 35


def test_without_cold_chain_confirmation_nothing_is_saved(pharmacist_client, london):
    patient, batch = treated_patient(site=london), BatchFactory()
    data = dispense_data(patient, batch)
    del data["cold_chain_confirmed"]
    response = pharmacist_client.post(reverse("pharmacy:dispense", args=[patient.study_id]), data)
    assert 'id="id_cold_chain_confirmed_error"' in response.content.decode()
    assert not TreatmentCycle.objects.exists() and Batch.objects.get(pk=batch.pk).quantity_remaining == 50


def test_a_special_needs_its_beyond_use_time(pharmacist_client, london):
    patient, batch = treated_patient(site=london), BatchFactory()
    data = dispense_data(patient, batch, beyond_use_at="")
    response = pharmacist_client.post(reverse("pharmacy:dispense", args=[patient.study_id]), data)
    assert 'id="id_beyond_use_at_error"' in response.content.decode()


def test_a_pharmacist_of_another_site_gets_404(pharmacist_client, sheffield):
    other = treated_patient(site=sheffield)
    assert pharmacist_client.get(reverse("pharmacy:dispense", args=[other.study_id])).status_code == 404


def test_a_batch_is_received_at_a_site_against_its_delivery_note_into_quarantine(pharmacist_client, london):
    data = {
        "site": london.pk,
        "delivery_note": "DN-2026-118",
        "product": BatchFactory.build().product.pk,
        "batch_number": "SPX-NEW",
        "expiry_date": days_ago(-180).isoformat(),
        "received_on": days_ago(0).isoformat(),
        "supplier": "Synthetic Specials Ltd",
        "manufacturer_licence": "MS 12345",
        "quantity_received": 60,
        "quantity_unit": "syringe",
        "dose_miu_per_unit": "2.000",
        "max_hours_after_reconstitution": 168,
    }
    assert pharmacist_client.post(reverse("pharmacy:batch_receive"), data).status_code == 302
    batch = Batch.objects.get(batch_number="SPX-NEW")
    assert (batch.quantity_remaining, batch.status) == (60, BatchStatus.QUARANTINED)
    assert batch.site_stock.get().site == london


def test_a_recall_lists_every_patient_who_received_the_batch(pharmacist_client, london, sheffield):
    batch = BatchFactory(quantity_received=40, quantity_remaining=40)
    mine, theirs = treated_patient(site=london), treated_patient(site=sheffield)
    for patient in (mine, theirs):
        supplied(patient, batch)
    detail = reverse("pharmacy:batch_detail", args=[batch.pk])
    data = {"status": "recalled", "reason": "Sterility failure", "version": batch.version}
    assert "Confirm the recall" in pharmacist_client.post(detail, data).content.decode()
    pharmacist_client.post(detail, {**data, "confirm_recall": "on"})
    content = pharmacist_client.get(detail).content.decode()
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.RECALLED
    assert mine.study_id in content and theirs.study_id not in content
    assert "And 1 patient at other sites" in content


def test_a_stale_status_change_is_refused(pharmacist_client):
    batch = BatchFactory()
    detail = reverse("pharmacy:batch_detail", args=[batch.pk])
    pharmacist_client.post(detail, {"status": "quarantined", "reason": "Fridge alarm", "version": batch.version})
    response = pharmacist_client.post(
        detail, {"status": "recalled", "reason": "Late", "confirm_recall": "on", "version": batch.version}
    )
    assert response.status_code == 409 and Batch.objects.get(pk=batch.pk).status == BatchStatus.QUARANTINED


def test_every_recipient_of_a_batch_is_reachable_page_by_page(pharmacist_client, london, sheffield, monkeypatch):
    monkeypatch.setattr(selectors.batches, "RECIPIENTS_PAGE_SIZE", 2)
    batch = BatchFactory()
    mine = [treated_patient(site=london) for _ in range(4)]
    for patient in mine:
        supplied(patient, batch)
    supplied(mine[0], batch, cycle_number=2)  # a second supply to the same patient
    supplied(treated_patient(site=sheffield), batch)
    detail = reverse("pharmacy:batch_detail", args=[batch.pk])
    listed = [
        d.patient.study_id
        for n in (1, 2, 3)
        for d in pharmacist_client.get(detail, {"page": n}).context["recipients"].page
    ]
    assert listed == sorted([p.study_id for p in mine] + [mine[0].study_id])
    content = pharmacist_client.get(detail).content.decode()
    assert "Patients who received this batch (5)" in content
    assert "4 patients at your sites, 5 supplies, page 1 of 3." in content
    assert "And 1 patient at other sites" in content


def test_a_batch_supplied_only_at_other_sites_counts_all_its_patients_as_elsewhere(pharmacist_client, sheffield):
    batch = BatchFactory()
    for _ in range(2):
        supplied(treated_patient(site=sheffield), batch)
    content = pharmacist_client.get(reverse("pharmacy:batch_detail", args=[batch.pk])).content.decode()
    assert "Patients who received this batch (2)" in content
    assert "0 patients at your sites, 0 supplies." in content
    assert "And 2 patients at other sites" in content


def test_the_recipients_csv_streams_every_supply_at_the_users_sites(pharmacist_client, london, sheffield):
    batch = BatchFactory(batch_number="SPX 7/26")
    first, second = treated_patient(site=london), treated_patient(site=london)
    supplied(second, batch)
    supplied(first, batch)
    supplied(first, batch, cycle_number=2)
    other = treated_patient(site=sheffield)
    supplied(other, batch)
    response = pharmacist_client.get(reverse("pharmacy:batch_recipients_csv", args=[batch.pk]))
    assert (
        response.streaming and response["Content-Disposition"] == 'attachment; filename="batch-SPX_7_26-recipients.csv"'
    )
    lines = b"".join(response.streaming_content).decode().splitlines()
    start = first.enrolment.first_dose_date
    assert lines == [
        "study_id,site,dispensed_on,cycle_number,quantity,quantity_unit,batch",
        f"{first.study_id},GB-LON,{start},1,5,syringe,SPX 7/26",
        f"{first.study_id},GB-LON,{start + dt.timedelta(days=28)},2,5,syringe,SPX 7/26",
        f"{second.study_id},GB-LON,{start},1,5,syringe,SPX 7/26",
    ]


def test_clinicians_cannot_download_the_recipients(clinician_client):
    batch = BatchFactory()
    assert clinician_client.get(reverse("pharmacy:batch_recipients_csv", args=[batch.pk])).status_code == 403


def test_the_batch_register_counts_each_patient_once(pharmacist_client, london, sheffield):
    batch, unused = BatchFactory(), BatchFactory()
    twice, once, elsewhere = treated_patient(site=london), treated_patient(site=london), treated_patient(site=sheffield)
    supplied(twice, batch)
    supplied(twice, batch, cycle_number=2)
    supplied(once, batch)
    supplied(elsewhere, batch)
    register = pharmacist_client.get(reverse("pharmacy:batch_list")).context["batches"]
    batches = {b.pk: b.recipient_count for b in register}
    assert (batches[batch.pk], batches[unused.pk]) == (3, 0)


def test_the_recipients_csv_neutralises_a_batch_number_that_looks_like_a_formula(pharmacist_client, london):
    batch = BatchFactory(batch_number='=HYPERLINK("http://x")')
    supplied(treated_patient(site=london), batch)
    response = pharmacist_client.get(reverse("pharmacy:batch_recipients_csv", args=[batch.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][-1] == "'" + batch.batch_number


def adverse_event(patient, term: str, onset: dt.date, *, serious: bool = False):
    return services.adverse_event_record(
        actor=None,
        patient=patient,
        term=term,
        ctcae_grade=2,
        onset_date=onset,
        serious=serious,
        relatedness="possible",
        criterion_hospitalisation=serious,
    )


def test_the_batch_page_says_when_its_recipients_had_more_adverse_events_than_it_lists(
    pharmacist_client, london, monkeypatch
):
    monkeypatch.setattr(selectors.stock, "RECIPIENT_ADVERSE_EVENTS_SHOWN", 2)
    batch = BatchFactory()
    patient = treated_patient(site=london)
    start = supplied(patient, batch).dispensed_on
    for day, term in enumerate(("Fatigue", "Headache", "Pyrexia")):
        adverse_event(patient, term, start + dt.timedelta(days=day))
    content = pharmacist_client.get(reverse("pharmacy:batch_detail", args=[batch.pk])).content.decode()
    assert "Fatigue" in content and "Headache" in content and "Pyrexia" not in content
    assert "More were reported: the first 2 by onset are listed." in content
    assert reverse("pharmacy:batch_adverse_events_csv", args=[batch.pk]) in content


def test_the_batch_page_lists_every_adverse_event_when_they_fit_and_says_nothing_more(pharmacist_client, london):
    batch = BatchFactory()
    patient = treated_patient(site=london)
    adverse_event(patient, "Fatigue", supplied(patient, batch).dispensed_on)
    content = pharmacist_client.get(reverse("pharmacy:batch_detail", args=[batch.pk])).content.decode()
    assert "Fatigue" in content and "More were reported" not in content


def test_the_adverse_events_csv_holds_every_one_after_supply_at_the_users_sites(
    pharmacist_client, london, sheffield, monkeypatch
):
    monkeypatch.setattr(selectors.stock, "RECIPIENT_ADVERSE_EVENTS_SHOWN", 1)  # more than the page lists
    batch = BatchFactory(batch_number="SPX 7/26")
    mine, theirs = treated_patient(site=london), treated_patient(site=sheffield)
    start = supplied(mine, batch).dispensed_on
    supplied(theirs, batch)
    adverse_event(mine, "Rash before supply", start - dt.timedelta(days=1))
    adverse_event(mine, "Pyrexia", start + dt.timedelta(days=3), serious=True)
    adverse_event(mine, "Fatigue", start)
    adverse_event(theirs, "Elsewhere", start + dt.timedelta(days=1))
    response = pharmacist_client.get(reverse("pharmacy:batch_adverse_events_csv", args=[batch.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="batch-SPX_7_26-adverse-events.csv"'
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "study_id,site,term,ctcae_grade,serious,onset_date,resolution_date,batch",
        f"{mine.study_id},GB-LON,Fatigue,2,False,{start},,SPX 7/26",
        f"{mine.study_id},GB-LON,Pyrexia,2,True,{start + dt.timedelta(days=3)},,SPX 7/26",
    ]


def test_clinicians_cannot_download_a_batchs_adverse_events(clinician_client):
    batch = BatchFactory()
    assert clinician_client.get(reverse("pharmacy:batch_adverse_events_csv", args=[batch.pk])).status_code == 403
