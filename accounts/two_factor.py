"""Two-factor authentication (TOTP, django-otp): available to every user, required for data managers.

After the password step, a user with a confirmed authenticator must enter a code before
anything else; a data manager without one is sent to set it up first. The API authenticates
with tokens, which are issued only to verified sessions' owners (see docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.http import AuthenticatedHttpRequest
from registry.models import Role, User

EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/healthz", "/api/")
ISSUER = "IL-2LD registry"


def two_factor_required(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.DATA_MANAGER)


def _otp_verified(user: User) -> bool:
    """Whether this session passed a second factor (django_otp's OTPMiddleware, which runs first,
    puts `is_verified` on the request's user)."""
    return bool(user.is_verified())  # type: ignore[attr-defined]  # set at run time by OTPMiddleware


class TwoFactorMiddleware:
    """Send authenticated but unverified sessions to the verification (or set-up) step."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not _otp_verified(user) and not request.path.startswith(EXEMPT_PREFIXES):
            if user_has_device(user):
                return redirect(f"{reverse('two_factor_verify')}?next={request.get_full_path()}")
            if two_factor_required(user):
                return redirect(reverse("two_factor_setup"))
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "/"


@login_required
def two_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Register a TOTP authenticator: show its secret as a QR code, confirm with a first code."""
    device, _ = TOTPDevice.objects.get_or_create(user=request.user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "That code is not right: check the clock on your phone and try the next code.")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(
        request,
        "two_factor/setup.html",
        {"form": form, "qr_svg": qr_svg, "secret": device.key, "required": two_factor_required(request.user)},
    )


@login_required
def two_factor_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.devices_for_user(request.user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect(_next_url(request))
        form.add_error("token", "That code is not right or has already been used.")
    return render(request, "two_factor/verify.html", {"form": form, "next": _next_url(request)})
