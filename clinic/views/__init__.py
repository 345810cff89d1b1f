"""The clinicians' web pages: thin adapters that read through selectors and write through services."""

from clinic.views.alerts import sae_alert_acknowledge, sae_alerts
from clinic.views.pages import enrol, enrol_eligibility, home, patient_detail, patient_list
from clinic.views.quality import quality_overview, query_act, query_create, query_detail
from clinic.views.records import (
    adverse_event_create,
    alsfrsr_create,
    alsfrsr_score,
    biomarker_create,
    consent_withdraw,
    event_create,
    record_edit,
    record_history_view,
)

__all__ = [
    "adverse_event_create",
    "alsfrsr_create",
    "alsfrsr_score",
    "biomarker_create",
    "consent_withdraw",
    "enrol",
    "enrol_eligibility",
    "event_create",
    "home",
    "patient_detail",
    "patient_list",
    "quality_overview",
    "query_act",
    "query_create",
    "query_detail",
    "record_edit",
    "record_history_view",
    "sae_alert_acknowledge",
    "sae_alerts",
]
