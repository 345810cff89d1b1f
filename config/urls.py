"""URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults
from rest_framework import exceptions as drf_exceptions

from accounts import site_users
from accounts.enrolment_links import enrolment_link
from accounts.tokens import token_list, token_revoke
from accounts.two_factor import two_factor_setup, two_factor_verify
from api.views import not_found as api_not_found
from config.health import healthz, healthz_all

API_PREFIX = "api/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/2fa/setup/", two_factor_setup, name="two_factor_setup"),
    path("accounts/2fa/verify/", two_factor_verify, name="two_factor_verify"),
    path("accounts/2fa/link/<str:key>/", enrolment_link, name="enrolment_link"),
    path("accounts/tokens/", token_list, name="token_list"),
    path("accounts/site-users/", site_users.site_users, name="site_users"),
    path("accounts/site-users/<int:pk>/deactivate/", site_users.site_user_deactivate, name="site_user_deactivate"),
    path("accounts/site-users/<int:pk>/role/", site_users.site_user_role, name="site_user_role"),
    path(
        "accounts/site-users/<int:pk>/reset-2fa/",
        site_users.site_user_reset_second_factor,
        name="site_user_reset_second_factor",
    ),
    path("accounts/tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
    path("healthz", healthz, name="healthz"),
    path("healthz/all", healthz_all, name="healthz_all"),
    path("pharmacy/", include("pharmacy.urls")),
    path("analytics/survival/", include("analytics.survival.urls")),
    path("analytics/", include("analytics.urls")),
    path("data/", include("interchange.urls")),
    path(API_PREFIX, include("api.urls")),
    path("", include("clinic.urls")),
]


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """API clients get DRF's JSON error body; web pages keep the HTML page, the same for a path
    that does not exist as for a patient of another site (so it does not tell which)."""
    if request.path_info.startswith("/" + API_PREFIX):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """API clients get a JSON body (DRF's), web pages the friendly 500 page (templates/500.html)."""
    if request.path_info.startswith("/" + API_PREFIX):
        return drf_exceptions.server_error(request)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """API clients get a JSON body shaped like every other API error ({"detail": …}, as the
    schema promises), web pages the 400 page."""
    if request.path_info.startswith("/" + API_PREFIX):
        return JsonResponse({"detail": str(exception) or "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


handler400 = bad_request
handler404 = page_not_found
handler500 = server_error
