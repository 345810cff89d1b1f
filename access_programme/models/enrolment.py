"""Enrolment in the programme by one route, with the MIROCALS eligibility check."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from access_programme.models.products import Route
from registry.models import ClinicalRecord, Patient, check_not_in_future, check_order


class Enrolment(ClinicalRecord):
    """Inclusion in the programme by one route, with the MIROCALS eligibility check.

    Unmet criteria do not block enrolment (real-world use differs from the trial); they are
    recorded, and the clinician must justify proceeding.
    """

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="enrolment")
    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="enrolments")
    enrolment_date = models.DateField(help_text="Date of consent and inclusion.")
    first_dose_date = models.DateField(null=True, blank=True)
    treating_clinician = models.CharField(max_length=120, blank=True)
    meets_mirocals_criteria = models.BooleanField(editable=False, default=False)
    unmet_criteria = models.JSONField(default=list, blank=True, editable=False)
    eligibility_justification = models.TextField(blank=True)
    # Derived, never edited: the next 28-day cycle's and the next ALSFRS-R's due dates (empty
    # out of follow-up) and the patient's site, kept by access_programme.next_due.next_due_refresh
    # so that the dispensing worklist of a site is one range of the (site, next_cycle_due) index,
    # and the patient list's "ALSFRS-R due" filter and sort one range of (site, next_alsfrsr_due).
    next_cycle_due = models.DateField(null=True, blank=True, editable=False)
    next_alsfrsr_due = models.DateField(null=True, blank=True, editable=False)
    site = models.ForeignKey(
        "registry.Site",
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )

    timeline_date_field = "enrolment_date"
    history = HistoricalRecords()

    class Meta:
        ordering = ["-enrolment_date"]
        indexes = [
            models.Index(fields=["next_cycle_due", "patient"], name="enrolment_next_cycle_due"),
            models.Index(fields=["site", "next_cycle_due"], name="enrolment_site_next_cycle_due"),
            models.Index(fields=["site", "next_alsfrsr_due"], name="enrolment_site_next_alsfrsr"),
            # the patient list sorted by enrolment date, most recent first, reads it backwards
            models.Index(fields=["site", "enrolment_date"], name="enrolment_site_enrolled"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} via {self.route.code}"

    def clean(self) -> None:
        super().clean()
        if self.first_dose_date:
            check_not_in_future(self.first_dose_date, "first_dose_date")
            check_order(
                self.enrolment_date, self.first_dose_date, "first_dose_date", "The first dose precedes enrolment."
            )
            if self.route_id and not self.route.is_treatment:
                raise ValidationError({"first_dose_date": "Registry-only (untreated) patients have no first dose."})
        if self.patient_id:
            try:
                diagnosis = self.patient.diagnosis
            except ObjectDoesNotExist:
                diagnosis = None
            if diagnosis is not None:
                check_order(
                    diagnosis.diagnosis_date, self.enrolment_date, "enrolment_date", "Enrolment precedes diagnosis."
                )
        if self.unmet_criteria and not self.eligibility_justification.strip():
            unmet = "; ".join(c["message"] for c in self.unmet_criteria)
            raise ValidationError(
                {"eligibility_justification": f"MIROCALS criteria not met ({unmet}): justify enrolling."}
            )
