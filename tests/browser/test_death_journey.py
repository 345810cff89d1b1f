"""A death closing a record in headless Chromium, as a clinician would meet it: a fatal adverse
event leads to the death form, the death is recorded with its cause, the patient page shows the
patient deceased with its loose ends, which are settled one by one. Screenshots go to
docs/screenshots/."""

from __future__ import annotations

import pytest
from django.utils import timezone

from registry import services
from registry.models import AdverseEvent, ClinicalEvent, Role
from tests.browser.journeys import account, save, shot
from tests.factories import SiteFactory, days_ago, treated_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
TODAY = timezone.localdate()


def test_a_fatal_event_leads_to_the_death_and_the_record_closes_with_its_loose_ends(page, live_server, sign_in):
    london = SiteFactory(code="GB-LON", name="London MND Care Centre")
    account("alice", Role.CLINICIAN, london)
    patient = treated_patient(site=london)
    open_event = services.adverse_event_record(
        actor=None,
        patient=patient,
        term="Dysphagia",
        onset_date=days_ago(30),
        ctcae_grade=2,
        relatedness="not_related",
        outcome="not_recovered",
    )

    sign_in(page, "alice")
    page.goto(f"{live_server.url}/patients/{patient.study_id}/adverse-events/new/")
    page.get_by_label("Term").fill("Aspiration pneumonia")
    page.get_by_label("Onset date").fill(days_ago(4).isoformat())
    page.get_by_label("Resolution date").fill(days_ago(2).isoformat())
    page.get_by_label("5 – Death", exact=False).check()
    page.get_by_label("Serious adverse event").check()
    page.get_by_label("Results in death").check()
    page.get_by_label("Not related").check()
    page.get_by_label("Outcome").select_option("fatal")
    save(page)
    assert "/events/new/" in page.url, page.locator(".errorlist").all_inner_texts()
    assert "needs the death recorded on the same date" in page.locator(".messages").inner_text()
    assert page.get_by_label("Event date").input_value() == days_ago(2).isoformat()
    shot(page, "death-form-from-fatal-event")
    save(page)

    death = ClinicalEvent.objects.get(patient=patient, event_type="death")
    fatal = AdverseEvent.objects.get(patient=patient, ctcae_grade=5)
    assert (death.event_date, death.caused_by_adverse_event) == (days_ago(2), fatal)

    page.goto(f"{live_server.url}/patients/{patient.study_id}/")
    assert "deceased on" in page.get_by_test_id("deceased").inner_text().lower()
    assert page.get_by_role("link", name="Record ALSFRS-R", exact=True).count() == 0
    loose_ends = page.get_by_test_id("loose-ends").inner_text()
    assert "Dysphagia" in loose_ends and "No ALSFRS-R" in loose_ends
    shot(page, "death-loose-ends")

    page.get_by_role("link", name="Set the outcome").click()
    page.get_by_label("Outcome").select_option("recovered_with_sequelae")
    page.get_by_label("Resolution date").fill(days_ago(3).isoformat())
    page.get_by_label("Reason for change").fill("Settled after death")
    save(page)
    open_event.refresh_from_db()
    assert open_event.outcome == "recovered_with_sequelae"
    assert "Dysphagia" not in page.get_by_test_id("loose-ends").inner_text()

    page.get_by_role("link", name="Record the final ALSFRS-R").click()
    assert page.get_by_label("Assessment date").input_value() == days_ago(2).isoformat()
    page.get_by_label("Assessment date").fill(TODAY.isoformat())
    page.get_by_label("No gastrostomy: score item 5a").check()
    for radio in page.locator("input[type=radio][value='2']:visible").all():
        radio.check()
    save(page)
    assert "nothing can be recorded after death" in page.locator(".errorlist").first.inner_text()
    page.get_by_label("Assessment date").fill(days_ago(2).isoformat())
    save(page)
    assert page.get_by_test_id("loose-ends-none").is_visible()
    shot(page, "death-record-closed")
