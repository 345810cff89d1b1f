"""A withdrawal at any level stops treatment: nothing dispensed after it can be recorded, while
follow-up goes on after a withdrawal from treatment only (issue 15, item 3)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from access_programme.models import Dispensing
from access_programme.services import cycle_start
from registry import services
from registry.models import Consent
from tests.access_programme.test_cycles_and_dispensing import dispense
from tests.factories import NORMAL_ALSFRSR_ITEMS, BatchFactory, days_ago
from tests.web.conftest import logged_in

pytestmark = [pytest.mark.requirement("PHA-01"), pytest.mark.django_db]


def withdraw_from_treatment(who, days: int) -> None:
    services.audited_save(Consent(patient=who, form_version="v1", consent_date=days_ago(90)), actor=None)
    services.consent_withdraw(
        actor=None, patient=who, level="treatment_only", effective_on=days_ago(days), reason="Patient's wish"
    )


def test_dispensing_after_a_withdrawal_from_treatment_is_refused(patient, pharmacist):
    cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    cycle = cycle_start(actor=pharmacist, patient=patient, cycle_number=2, start_date=days_ago(56))
    withdraw_from_treatment(patient, days=60)
    with pytest.raises(ValidationError) as error:
        dispense(pharmacist, cycle, BatchFactory())
    assert error.value.message_dict["dispensed_on"] == [
        f"The patient withdrew from treatment on {days_ago(60):%d %b %Y}; nothing dispensed later can be recorded."
    ]
    assert not Dispensing.objects.exists()


def test_a_supply_made_before_the_withdrawal_can_still_be_recorded(patient, pharmacist):
    cycle = cycle_start(actor=pharmacist, patient=patient, cycle_number=1, start_date=days_ago(84))
    withdraw_from_treatment(patient, days=60)
    assert dispense(pharmacist, cycle, BatchFactory()).pk


def test_follow_up_goes_on_after_a_withdrawal_from_treatment_only(patient):
    withdraw_from_treatment(patient, days=60)
    visit = services.alsfrsr_record(actor=None, patient=patient, assessment_date=days_ago(5), **NORMAL_ALSFRSR_ITEMS)
    assert visit.pk


def test_the_patient_page_offers_no_dispensing_after_a_withdrawal_from_treatment(patient, pharmacist):
    client = logged_in(pharmacist)
    page = reverse("clinic:patient_detail", args=[patient.study_id])
    assert "Dispense cycle 1" in client.get(page).content.decode()
    withdraw_from_treatment(patient, days=1)
    assert "Dispense cycle" not in client.get(page).content.decode()
