"""Analyst pages: datasets (and, from the survival work, the dashboard)."""

from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("dictionary/", views.dictionary_page, name="dictionary"),
    path("dictionary.<str:file_format>", views.dictionary_download, name="dictionary-download"),
    path("datasets/<str:table>.<str:file_format>", views.table_download, name="table-download"),
]
