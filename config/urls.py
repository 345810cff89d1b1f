"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from registry.two_factor import two_factor_setup, two_factor_verify
from registry.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/setup/", two_factor_setup, name="two_factor_setup"),
    path("accounts/2fa/verify/", two_factor_verify, name="two_factor_verify"),
    path("healthz", healthz, name="healthz"),
    path("pharmacy/", include("access_programme.urls")),
    path("analytics/survival/", include("analytics.survival.urls")),
    path("analytics/", include("analytics.urls")),
    path("data/", include("registry.interchange.urls")),
    path("api/", include("api.urls")),
    path("", include("registry.urls")),
]
