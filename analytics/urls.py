"""Analyst pages: datasets and survival dashboard."""

app_name = "analytics"
urlpatterns: list = []
