"""The clinicians' web pages: thin adapters that read through selectors and write through services."""

from clinic.views.alerts import sae_alert_acknowledge, sae_alerts
from clinic.views.pages import enrol, enrol_eligibility, home, patient_detail, patient_list
from clinic.views.quality import quality_overview, query_act, query_create, query_detail
from clinic.views.records import (
    adverse_event_create,
    alsfrsr_create,
    alsfrsr_score,
    biomarker_create,
    event_create,
    record_edit,
    record_history_view,
)
from clinic.views.safety import (
    notification_open,
    notifications,
    safety_case,
    safety_case_close_view,
    safety_case_icsr,
    safety_dashboard,
    safety_report_create,
)
from clinic.views.search import patient_find
from clinic.views.signatures import sign, unlock
from clinic.views.summary import patient_summary_pdf
from clinic.views.withdrawal import consent_withdraw

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
    "notification_open",
    "notifications",
    "patient_detail",
    "patient_find",
    "patient_list",
    "patient_summary_pdf",
    "quality_overview",
    "query_act",
    "query_create",
    "query_detail",
    "record_edit",
    "record_history_view",
    "sae_alert_acknowledge",
    "sae_alerts",
    "safety_case",
    "safety_case_close_view",
    "safety_case_icsr",
    "safety_dashboard",
    "safety_report_create",
    "sign",
    "unlock",
]
