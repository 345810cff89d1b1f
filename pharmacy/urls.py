"""Pharmacy pages, mounted at /pharmacy/."""

from django.urls import path

from pharmacy import prescribing, specials, stock_views, views
from registry import identifiers  # noqa: F401 - registers the study_id path converter

app_name = "pharmacy"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("dispense/<study_id:study_id>/", views.dispense, name="dispense"),
    path("prescribe/<study_id:study_id>/", prescribing.prescribe, name="prescribe"),
    path("dispensings/<int:pk>/", prescribing.dispensing_detail, name="dispensing_detail"),
    path("dispensings/<int:pk>/label.pdf", prescribing.dispensing_label, name="dispensing_label"),
    path("dispensings/<int:pk>/return/", stock_views.dispensing_return, name="dispensing_return"),
    path("batches/<int:pk>/stock/", stock_views.batch_stock, name="batch_stock"),
    path("reconciliation/", stock_views.reconciliation, name="reconciliation"),
    path("excursions/", stock_views.excursions, name="excursions"),
    path("specials/", specials.specials_register, name="specials_register"),
    path("recalls/<int:pk>/acknowledge/", stock_views.recall_acknowledge, name="recall_acknowledge"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/receive/", views.batch_receive, name="batch_receive"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/recipients.csv", views.batch_recipients_csv, name="batch_recipients_csv"),
    path("batches/<int:pk>/adverse-events.csv", views.batch_adverse_events_csv, name="batch_adverse_events_csv"),
]
