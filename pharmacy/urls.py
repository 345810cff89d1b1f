"""Pharmacy pages, mounted at /pharmacy/."""

from django.urls import path

from pharmacy import views

app_name = "pharmacy"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("dispense/<str:study_id>/", views.dispense, name="dispense"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/receive/", views.batch_receive, name="batch_receive"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/recipients.csv", views.batch_recipients_csv, name="batch_recipients_csv"),
]
