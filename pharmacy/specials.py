"""The specials register: every supply of an unlicensed special at the user's sites, with the
records regulation 170 asks for (docs/pharmacy.md, "The specials register"). The inspection
export (CSV and PDF) is served by analytics.specials_export, which logs it with every export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from access_programme import selectors
from pharmacy.access import require_pharmacy
from registry.http import AuthenticatedHttpRequest
from registry.selectors import sites_visible_to


@login_required
@require_GET
def specials_register(request: AuthenticatedHttpRequest) -> HttpResponse:
    """`?from=&to=&site=`: supplies by date within the period (inclusive), at one of the user's
    sites or all of them; the names shown are logged as identity reads."""
    require_pharmacy(request.user)
    wanted, errors = selectors.specials_filter(request.user, request.GET, timezone.localdate())
    register = selectors.specials_register(request.user, wanted, page=request.GET.get("page"), path=request.path)
    return render(
        request,
        "pharmacy/specials_register.html",
        {
            "register": register,
            "page": register.page,
            "wanted": wanted,
            "errors": errors,
            "sites": sites_visible_to(request.user).order_by("code"),
            "query_string": wanted.query_string(),
        },
        status=400 if errors else 200,
    )
