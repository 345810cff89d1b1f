"""Data-manager pages for cohort import, mounted at /data/."""

from django.urls import path

from interchange import views

app_name = "interchange"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("imports/<int:pk>/", views.run_detail, name="run_detail"),
    path("imports/<int:pk>/report.csv", views.run_report, name="run_report"),
]
