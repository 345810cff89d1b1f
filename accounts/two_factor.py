"""Two-factor authentication (TOTP and one-time recovery codes, django-otp), required of everyone.

After the password step nothing is served to the session until it has passed a second factor:
web pages, downloads and the admin redirect to the code (or, for a user with no authenticator
yet, to enrolment); the API answers 403. API tokens are issued only to verified sessions, for
their own user (docs/security.md). Adding or replacing an authenticator needs the current
factor (a code from the current authenticator, or a recovery code), so a stolen password alone
cannot enrol the thief's phone.
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.enrolment_links import session_link
from registry.http import AuthenticatedHttpRequest
from registry.models import EnrolmentLink, User
from registry.services.accounts import second_factor_enrol
from registry.services.users import enrolment_link_outstanding, enrolment_link_use

#: Paths an unverified session may reach: the second-factor pages themselves, signing in and out.
EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/healthz")
API_PREFIX = "/api/"
DEVICE_NAME = "authenticator"
UNVERIFIED_API_MESSAGE = (
    "This session has not completed its second factor: enter your authentication code in the "
    "web app first, or use an API token."
)


def otp_verified(user: Any) -> bool:
    """Whether this session passed a second factor (django_otp's OTPMiddleware, which runs first,
    puts `is_verified` on the request's user)."""
    return bool(getattr(user, "is_verified", lambda: False)())


class TwoFactorMiddleware:
    """Refuse every request of a signed-in session that has not passed its second factor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not otp_verified(user) and not request.path.startswith(EXEMPT_PREFIXES):
            if request.path.startswith(API_PREFIX):
                return JsonResponse({"detail": UNVERIFIED_API_MESSAGE}, status=403)
            if user_has_device(user):
                return redirect(f"{reverse('two_factor_verify')}?next={request.get_full_path()}")
            return redirect(reverse("two_factor_setup"))
        return self.get_response(request)


def _code_field(label: str, *, autofocus: bool = False) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"}
    if autofocus:
        attrs["autofocus"] = "autofocus"
    return forms.CharField(label=label, min_length=6, max_length=16, widget=forms.TextInput(attrs=attrs))


class TokenForm(forms.Form):
    token = _code_field("6-digit code from your authenticator app, or a recovery code", autofocus=True)


class EnrolForm(forms.Form):
    """The new authenticator's first code; when one is already enrolled, also the current factor."""

    current = _code_field("Code from your current authenticator, or one of your recovery codes")
    token = _code_field("6-digit code the new authenticator shows")

    def __init__(self, *args: Any, replacing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not replacing:
            del self.fields["current"]


def _next_url(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "/"


def manual_key(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it by hand: base32, in groups of four."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _pending_device(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def enrol(request: AuthenticatedHttpRequest, *, replacing: bool, link: EnrolmentLink | None = None) -> HttpResponse:
    """Show a new authenticator's QR code and key; confirm it with its first code (and the
    current factor when replacing), then show the recovery codes once."""
    user = request.user
    device = _pending_device(user)
    form = EnrolForm(request.POST or None, replacing=replacing)
    if request.method == "POST" and form.is_valid():
        if not device.verify_token(form.cleaned_data["token"].strip()):
            form.add_error("token", "That code is not right: check the clock on your phone and try the next code.")
        elif replacing and not match_token(user, form.cleaned_data["current"].strip()):
            form.add_error("current", "That is not a current code or an unused recovery code.")
        else:
            codes = second_factor_enrol(actor=user, device=device)
            if link is not None:
                enrolment_link_use(link=link)
            otp_login(request, device)
            return render(request, "two_factor/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    import segno  # heavy: imported when used (docs/benchmarks.md, start-up)

    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    context = {"form": form, "qr_svg": qr_svg, "secret": manual_key(device), "replacing": replacing}
    return render(request, "two_factor/setup.html", context)


@login_required
def two_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Enrol a first authenticator, or replace the current one (which needs the current factor).

    After an invitation or a reset, only the session that came through the one-time link may enrol.
    """
    replacing = user_has_device(request.user)
    link = session_link(request, request.user)
    if not replacing and link is None and enrolment_link_outstanding(request.user):
        return render(request, "two_factor/link_needed.html", status=403)
    return enrol(request, replacing=replacing, link=link)


@login_required
def two_factor_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator, or a one-time recovery code."""
    if not user_has_device(request.user):
        return redirect(reverse("two_factor_setup"))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].strip())
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "That code is not right or has already been used.")
    return render(request, "two_factor/verify.html", {"form": form, "next": _next_url(request)})
