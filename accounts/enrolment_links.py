"""The one-time link of an invitation or a second-factor reset.

Opening it (an invitation: choose a password; a reset: confirm the current password) signs the
person in and takes them to enrol an authenticator; only that session may enrol while the link is
outstanding, and enrolling uses the link up (accounts.two_factor).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate, login
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from registry.models import EnrolmentLink, User
from registry.services.users import enrolment_link_find

#: The session key that holds the pk of the link this session came through.
LINK_SESSION_KEY = "_enrolment_link"
BACKEND = "django.contrib.auth.backends.ModelBackend"


class CurrentPasswordForm(forms.Form):
    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, user: User, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if authenticate(self.request, username=self.user.username, password=password) is None:
            raise forms.ValidationError("That password is not right.")
        return password


def enrolment_link(request: HttpRequest, key: str) -> HttpResponse:
    link = enrolment_link_find(key)
    if link is None:
        return render(request, "two_factor/link_invalid.html", status=404)
    user = link.user
    inviting = link.purpose == EnrolmentLink.Purpose.INVITATION or not user.has_usable_password()
    form: forms.Form = (
        SetPasswordForm(user, request.POST or None)
        if inviting
        else CurrentPasswordForm(user, request, request.POST or None)
    )
    if request.method == "POST" and form.is_valid():
        if isinstance(form, SetPasswordForm):
            form.save()
        login(request, user, backend=BACKEND)
        request.session[LINK_SESSION_KEY] = link.pk
        return redirect("two_factor_setup")
    return render(request, "two_factor/link.html", {"form": form, "link": link, "inviting": inviting})


def session_link(request: HttpRequest, user: User) -> EnrolmentLink | None:
    """The outstanding link this session came through, if any."""
    pk = request.session.get(LINK_SESSION_KEY)
    return EnrolmentLink.objects.filter(pk=pk, user=user, used_at__isnull=True).first() if pk else None
