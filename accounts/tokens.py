"""A person's own API tokens: create (the key shown once), list, revoke.

Reached only from a session that passed the second factor (accounts.two_factor), so a token
is never a way round 2FA; there is no page or admin where anyone creates a token for another.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from registry.http import AuthenticatedHttpRequest
from registry.models import ApiToken, TokenScope
from registry.services.accounts import TOKEN_MAX_DAYS, api_token_create, api_token_revoke

DEFAULT_DAYS = 90


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. 'R script on the analysis PC'.")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ)
    expires_on = forms.DateField(
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"At most {TOKEN_MAX_DAYS} days from today.",
    )


@login_required
def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    default_expiry = timezone.localdate() + dt.timedelta(days=DEFAULT_DAYS)
    form = TokenCreateForm(request.POST or None, initial={"expires_on": default_expiry})
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = api_token_create(actor=request.user, **form.cleaned_data)
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            form = TokenCreateForm(initial={"expires_on": default_expiry})
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "accounts/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    api_token_revoke(actor=request.user, token=get_object_or_404(ApiToken, pk=pk, user=request.user))
    return redirect("token_list")
