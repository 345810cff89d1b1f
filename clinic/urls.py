from django.urls import path

from clinic import subject_access, views
from registry import identifiers  # noqa: F401 - registers the study_id path converter

app_name = "clinic"

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/enrol/", views.enrol, name="enrol"),
    path("patients/find/", views.patient_find, name="patient_find"),
    path("patients/enrol/eligibility/", views.enrol_eligibility, name="enrol_eligibility"),
    path("patients/<study_id:study_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<study_id:study_id>/summary.pdf", views.patient_summary_pdf, name="patient_summary_pdf"),
    path("patients/<study_id:study_id>/alsfrsr/new/", views.alsfrsr_create, name="alsfrsr_create"),
    path("patients/<study_id:study_id>/alsfrsr/score/", views.alsfrsr_score, name="alsfrsr_score"),
    path("patients/<study_id:study_id>/biomarkers/new/", views.biomarker_create, name="biomarker_create"),
    path("patients/<study_id:study_id>/adverse-events/new/", views.adverse_event_create, name="adverse_event_create"),
    path("patients/<study_id:study_id>/events/new/", views.event_create, name="event_create"),
    path("patients/<study_id:study_id>/withdrawal/", views.consent_withdraw, name="consent_withdraw"),
    path("patients/<study_id:study_id>/<slug:kind>/<int:pk>/edit/", views.record_edit, name="record_edit"),
    path(
        "patients/<study_id:study_id>/<slug:kind>/<int:pk>/history/", views.record_history_view, name="record_history"
    ),
    path("patients/<study_id:study_id>/queries/new/", views.query_create, name="query_create"),
    path("patients/<study_id:study_id>/sign/", views.sign, name="sign_casebook"),
    path("patients/<study_id:study_id>/alsfrsr/<int:pk>/sign/", views.sign, name="sign_visit"),
    path("patients/<study_id:study_id>/signatures/<int:pk>/unlock/", views.unlock, name="unlock"),
    path("patients/<study_id:study_id>/subject-access.json", subject_access.subject_access, name="subject_access"),
    path("quality/", views.quality_overview, name="quality_overview"),
    path("quality/queries/<int:pk>/", views.query_detail, name="query_detail"),
    path("quality/queries/<int:pk>/<slug:action>/", views.query_act, name="query_act"),
    path("safety/", views.safety_dashboard, name="safety_dashboard"),
    path("safety/cases/<int:pk>/", views.safety_case, name="safety_case"),
    path("safety/cases/<int:pk>/reports/new/", views.safety_report_create, name="safety_report_create"),
    path("safety/cases/<int:pk>/close/", views.safety_case_close_view, name="safety_case_close"),
    path("safety/cases/<int:pk>/icsr.json", views.safety_case_icsr, name="safety_case_icsr"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("alerts/", views.sae_alerts, name="sae_alerts"),
    path("alerts/<int:pk>/acknowledge/", views.sae_alert_acknowledge, name="sae_alert_acknowledge"),
]
