"""Site leads manage their own sites' users here, without the admin: invite (with a role up to
their own), change a role, deactivate, reset the second factor. The services decide what is
allowed (registry.services.users); these pages only show and ask."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from registry.http import AuthenticatedHttpRequest
from registry.models import Role, Site, User
from registry.roles import may_manage_user, roles_grantable_by
from registry.services.users import second_factor_reset, user_deactivate, user_invite, user_role_grant


def _lead_sites(actor: User) -> list[Site]:
    if not (actor.is_superuser or (actor.is_site_lead and roles_grantable_by(actor))):
        raise PermissionDenied("Only site leads manage site users.")
    return list(Site.objects.all() if actor.is_superuser else actor.sites.all())


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    role = forms.ChoiceField()
    site = forms.ModelChoiceField(queryset=Site.objects.none())

    def __init__(self, actor: User, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [(role, Role(role).label) for role in roles_grantable_by(actor)]
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ModelChoiceField)
        site_field.queryset = Site.objects.filter(pk__in=[site.pk for site in _lead_sites(actor)])


def _page(request: AuthenticatedHttpRequest, form: InviteForm | None = None, **shown: object) -> HttpResponse:
    sites = _lead_sites(request.user)
    users = User.objects.filter(sites__in=sites).distinct().order_by("username").prefetch_related("sites")
    rows = [(user, may_manage_user(request.user, user)) for user in users]
    context = {
        "form": form or InviteForm(request.user),
        "rows": rows,
        "roles": [(role, Role(role).label) for role in roles_grantable_by(request.user)],
        **shown,
    }
    return render(request, "accounts/site_users.html", context)


def _link(request: AuthenticatedHttpRequest, key: str) -> str:
    return request.build_absolute_uri(reverse("enrolment_link", args=[key]))


@login_required
def site_users(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InviteForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, key = user_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            return _page(request, shown_link=_link(request, key), shown_for=user)
    return _page(request, form)


def _managed(request: AuthenticatedHttpRequest, pk: int) -> User:
    sites = _lead_sites(request.user)
    return get_object_or_404(User.objects.filter(sites__in=sites).distinct(), pk=pk)


@login_required
@require_POST
def site_user_deactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = _managed(request, pk)
    try:
        user_deactivate(actor=request.user, user=user, reason=request.POST.get("reason", ""))
    except ValidationError as refused:
        return _page(request, error=" ".join(refused.messages))
    return _page(request, notice=f"{user.username} is deactivated: they can no longer sign in or use a token.")


@login_required
@require_POST
def site_user_role(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = user_role_grant(actor=request.user, user=_managed(request, pk), role=request.POST.get("role", ""))
    return _page(request, notice=f"{user.username} is now {user.get_role_display()}.")


@login_required
@require_POST
def site_user_reset_second_factor(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = _managed(request, pk)
    key = second_factor_reset(actor=request.user, user=user)
    return _page(request, shown_link=_link(request, key), shown_for=user)
