"""API v1 routes (filled by the API work)."""

app_name = "api"
urlpatterns: list = []
