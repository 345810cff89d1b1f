from django.urls import path, re_path

from analytics.survival import views

app_name = "survival"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run_progress"),
    path("runs/<int:run_id>/results.json", views.download_json, name="download_json"),
    path("runs/<int:run_id>/report.html", views.download_report, name="download_report"),
    path("runs/<int:run_id>/report.pdf", views.download_archived, {"kind": "pdf"}, name="download_pdf"),
    path("runs/<int:run_id>/package.zip", views.download_archived, {"kind": "package"}, name="download_package"),
    path("runs/<int:run_id>/tables/<str:table>.csv", views.download_table, name="download_table"),
    re_path(
        r"^runs/(?P<run_id>\d+)/figures/(?P<name>\w+)\.(?P<fmt>svg|png|csv)$",
        views.download_figure,
        name="download_figure",
    ),
    path("benchmarks/", views.benchmark_list, name="benchmarks"),
]
