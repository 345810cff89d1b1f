"""Analyst pages: datasets, statistics-package exports and the overview (the survival dashboard
has its own URLs under analytics/survival/)."""

from django.urls import path

from analytics import views
from analytics.safety_listing import sae_line_listing
from analytics.specials_export import specials_register_csv, specials_register_pdf

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("dictionary/", views.dictionary_page, name="dictionary"),
    path("dictionary.<str:file_format>", views.dictionary_download, name="dictionary-download"),
    path("datasets/<str:table>.<str:file_format>", views.table_download, name="table-download"),
    path("safety/line-listing.csv", sae_line_listing, name="sae-line-listing"),
    path("specials/register.csv", specials_register_csv, name="specials-register-csv"),
    path("specials/register.pdf", specials_register_pdf, name="specials-register-pdf"),
    path("overview/", views.overview, name="overview"),
    path("overview/<str:name>.csv", views.overview_csv, name="overview-csv"),
    path("exports/", views.export_request, name="export-request"),
    path("exports/<int:job_id>/", views.export_job, name="export-job"),
    path("exports/<int:job_id>/status/", views.export_job_status, name="export-job-status"),
    path("exports/<int:job_id>/download/", views.export_job_download, name="export-job-download"),
]
