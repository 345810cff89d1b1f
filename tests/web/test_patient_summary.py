"""The patient page's charts and its printable one-page summary (PDF): same patients and roles
as the page, no identifiers, never cached."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from registry import services
from registry.models import IdentityAccess
from tests.factories import IdentityFactory, days_ago, pnfh_recorded, treated_patient
from tests.web.conftest import assess, followed_patient, logged_in

pytestmark = [pytest.mark.requirement("CLN-04"), pytest.mark.django_db]


def summary_url(patient) -> str:
    return reverse("clinic:patient_summary_pdf", args=[patient.study_id])


def charted_patient(site):
    """Three cycles, two ALSFRS-R, two pNFH results (low, then high) and an open serious AE."""
    patient = followed_patient(site)
    assess(patient, days_ago(80))
    for days, value in ((80, "1.9"), (20, "4.4")):
        pnfh_recorded(patient, days, value)
    services.adverse_event_record(
        actor=None,
        patient=patient,
        term="Aspiration pneumonia",
        onset_date=days_ago(3),
        ctcae_grade=3,
        serious=True,
        criterion_hospitalisation=True,
        relatedness="not_related",
    )
    return patient


def pdf_text(response) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(response.content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_patient_page_draws_pnfh_against_the_strata_and_the_cycles_with_their_tables(clinician_client, london):
    patient = charted_patient(london)
    content = clinician_client.get(reverse("clinic:patient_detail", args=[patient.study_id])).content.decode()
    assert 'data-band="low"' in content and 'data-band="high"' in content and 'data-edge="3700"' in content
    assert 'data-cycle="3"' in content and "Cycles as a table" in content
    assert "High (&gt; 3700 pg/mL)" in content and "4400" in content  # the pNFH table
    assert summary_url(patient) in content and "Print summary (PDF)" in content


def test_the_summary_is_one_page_with_the_study_id_stages_pnfh_stratum_cycles_and_open_sae(clinician_client, london):
    patient = charted_patient(london)
    response = clinician_client.get(summary_url(patient))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages, text = pdf_text(response)
    assert pages == 1
    for expected in (patient.study_id, "London", "NHS Specials", "In follow-up", "47/48", "King's 1", "MiToS 0"):
        assert expected in text, expected
    assert "4400 pg/mL" in text and "High (> 3700 pg/mL)" in text
    assert "SAE · Aspiration pneumonia" in text and "Not signed." in text


def test_the_summary_is_never_cached(clinician_client, london):
    response = clinician_client.get(summary_url(followed_patient(london)))
    assert "no-store" in response["Cache-Control"]


def test_the_summary_shows_no_identifiers_and_reads_none_even_for_a_clinician(clinician_client, london):
    patient = followed_patient(london)
    IdentityFactory(patient=patient)
    _, text = pdf_text(clinician_client.get(summary_url(patient)))
    identity = patient.identity
    for identifier in (identity.family_name, identity.given_name, identity.nhs_number, str(patient.year_of_birth)):
        assert identifier not in text
    assert not IdentityAccess.objects.filter(patient=patient).exists()


def test_another_sites_patient_has_no_summary(clinician_client, sheffield):
    other = treated_patient(site=sheffield)
    assert clinician_client.get(summary_url(other)).status_code == 404


def test_a_patient_with_many_records_still_fits_one_page(clinician_client, london):
    patient = charted_patient(london)
    for number in range(12):
        services.adverse_event_record(
            actor=None,
            patient=patient,
            term=f"Injection-site reaction {number}",
            onset_date=days_ago(60 - number),
            ctcae_grade=1,
            relatedness="probable",
        )
    pages, text = pdf_text(clinician_client.get(summary_url(patient)))
    assert pages == 1 and "more on the patient page" in text


def test_the_summary_of_a_deceased_patient_says_so_with_stage_5(clinician_client, london):
    patient = followed_patient(london)
    services.outcome_record(actor=None, patient=patient, event_type="death", event_date=days_ago(2))
    _, text = pdf_text(clinician_client.get(summary_url(patient)))
    assert "Deceased" in text and "King's 5" in text and "MiToS 5" in text


def test_an_analyst_gets_the_same_pseudonymous_summary(analyst, london):
    patient = followed_patient(london)
    response = logged_in(analyst).get(summary_url(patient))
    assert response.status_code == 200 and patient.study_id in pdf_text(response)[1]
