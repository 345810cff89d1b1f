"""API routes: /api/v1/ resources, /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI) and /api/redoc/
(ReDoc), both from drf-spectacular-sidecar's bundled assets (no CDN). Their pages are overridden in
templates/drf_spectacular/ so that no script is inline (CSP script-src 'self') and ReDoc's fonts are
served from static/vendor/fonts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from accounts.api_lockout import LockoutTokenAuthentication
from api import datasets, views

app_name = "api"


class _SignedIn(TypedDict):
    authentication_classes: list[type[BaseAuthentication]]
    permission_classes: list[type[BasePermission]]


_signed_in: _SignedIn = {
    "authentication_classes": [LockoutTokenAuthentication, SessionAuthentication],
    "permission_classes": [IsAuthenticated],
}


def _schema_tooling_view(name: str, **initkwargs: Any) -> Callable[..., HttpResponseBase]:
    """drf-spectacular's view `name`, imported with its schema tooling on its first request rather
    than with the URL conf (docs/benchmarks.md, "Start-up"; api.schema_marks). csrf_exempt as DRF's
    `as_view()` is: the authentication classes enforce CSRF for session users."""
    views_made: list[Callable[..., HttpResponseBase]] = []

    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not views_made:
            # heavy: imported when used (docs/benchmarks.md, start-up)
            from drf_spectacular import views as spectacular

            views_made.append(getattr(spectacular, name).as_view(**initkwargs, **_signed_in))
        return views_made[0](request, *args, **kwargs)

    return view


class RegistryAPIRootView(APIRootView):
    """The list of resources, behind the same door as the resources: token first, so an
    anonymous client gets 401 with `WWW-Authenticate: Token` rather than DRF's default 403."""

    authentication_classes = _signed_in["authentication_classes"]
    permission_classes = _signed_in["permission_classes"]


class RegistryRouter(DefaultRouter):
    APIRootView = RegistryAPIRootView


router = RegistryRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("routes", views.RouteViewSet, basename="route")
router.register("products", views.ProductViewSet, basename="product")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("identities", views.IdentityViewSet, basename="identity")
router.register("consents", views.ConsentViewSet, basename="consent")
router.register("consent-withdrawals", views.ConsentWithdrawalViewSet, basename="consent-withdrawal")
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
router.register("dataset-exports", datasets.DatasetExportViewSet, basename="dataset-export")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", _schema_tooling_view("SpectacularAPIView"), name="schema"),
    path("docs/", _schema_tooling_view("SpectacularSwaggerView", url_name="api:schema"), name="docs"),
    path("redoc/", _schema_tooling_view("SpectacularRedocView", url_name="api:schema"), name="redoc"),
]
