from django.urls import path

from clinic import views

app_name = "clinic"

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/enrol/", views.enrol, name="enrol"),
    path("patients/enrol/eligibility/", views.enrol_eligibility, name="enrol_eligibility"),
    path("patients/<str:study_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<str:study_id>/alsfrsr/new/", views.alsfrsr_create, name="alsfrsr_create"),
    path("patients/<str:study_id>/alsfrsr/score/", views.alsfrsr_score, name="alsfrsr_score"),
    path("patients/<str:study_id>/biomarkers/new/", views.biomarker_create, name="biomarker_create"),
    path("patients/<str:study_id>/adverse-events/new/", views.adverse_event_create, name="adverse_event_create"),
    path("patients/<str:study_id>/events/new/", views.event_create, name="event_create"),
    path("patients/<str:study_id>/consent/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("patients/<str:study_id>/<slug:kind>/<int:pk>/edit/", views.record_edit, name="record_edit"),
    path("patients/<str:study_id>/<slug:kind>/<int:pk>/history/", views.record_history_view, name="record_history"),
    path("patients/<str:study_id>/queries/new/", views.query_create, name="query_create"),
    path("quality/", views.quality_overview, name="quality_overview"),
    path("quality/queries/<int:pk>/", views.query_detail, name="query_detail"),
    path("quality/queries/<int:pk>/<slug:action>/", views.query_act, name="query_act"),
    path("alerts/", views.sae_alerts, name="sae_alerts"),
    path("alerts/<int:pk>/acknowledge/", views.sae_alert_acknowledge, name="sae_alert_acknowledge"),
]
