"""Pharmacy pages (filled by the web work)."""

app_name = "pharmacy"
urlpatterns: list = []
