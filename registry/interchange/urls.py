"""Data-manager pages for cohort import and export."""

app_name = "interchange"
urlpatterns: list = []
