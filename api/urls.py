"""API routes: /api/v1/ resources, /api/schema/ (OpenAPI 3) and /api/docs/ (Swagger UI served from
drf-spectacular-sidecar's bundled assets: no CDN; Redoc is left out because its page loads web fonts)."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from api import datasets, views
from registry.api_lockout import LockoutTokenAuthentication

app_name = "api"

router = DefaultRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("routes", views.RouteViewSet, basename="route")
router.register("products", views.ProductViewSet, basename="product")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("identities", views.IdentityViewSet, basename="identity")
router.register("consents", views.ConsentViewSet, basename="consent")
router.register("diagnoses", views.DiagnosisViewSet, basename="diagnosis")
router.register("alsfrs-r", views.AlsfrsrViewSet, basename="alsfrsr")
router.register("biomarkers", views.BiomarkerViewSet, basename="biomarker")
router.register("events", views.EventViewSet, basename="event")
router.register("adverse-events", views.AdverseEventViewSet, basename="adverse-event")
router.register("enrolments", views.EnrolmentViewSet, basename="enrolment")
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("batches", views.BatchViewSet, basename="batch")
router.register("dispensings", views.DispensingViewSet, basename="dispensing")
router.register("datasets", datasets.DatasetViewSet, basename="dataset")
router.register("dataset-dictionary", datasets.DatasetDictionaryViewSet, basename="dataset-dictionary")

_docs = {
    "authentication_classes": [LockoutTokenAuthentication, SessionAuthentication],
    "permission_classes": [IsAuthenticated],
}

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(**_docs), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **_docs), name="docs"),
]
