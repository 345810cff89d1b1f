from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from registry.admin_audit import AuditedAdmin, register_audited
from registry.models import (
    AccountAction,
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    Patient,
    PatientIdentity,
    Site,
    User,
)
from registry.selectors import identity_reads_log
from registry.services import RECORD_SERVICES, consent_withdraw
from registry.services.accounts import account_event_record, user_deactivate


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country", "active")
    search_fields = ("code", "name")


@admin.register(User)
class RegistryUserAdmin(UserAdmin):
    """Users, for superusers only: they alone set roles, sites and the staff and superuser flags.

    Anyone else with admin access may look but not change, add or reset a password (which would
    take over the account): nothing a data manager reaches grants more rights than they have.
    Site leads manage their own site's users on the site-users pages (accounts.site_users).
    Every change made here is recorded as an AccountEvent.
    """

    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Registry role", {"fields": ("role", "sites", "is_site_lead")}),
    )
    list_display = ("username", "get_full_name", "role", "is_site_lead", "is_active")
    list_filter = ("role", "is_site_lead", "is_active", "sites")
    filter_horizontal = ("sites", "groups", "user_permissions")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)

    # Users are never deleted: their names stay on the audit trail and the access log, which are
    # append-only. "Delete" deactivates instead (registry.services.accounts.user_deactivate).
    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[str]]:
        return [f"{obj} (deactivated, not deleted)" for obj in objs], {}, set(), []

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._deactivate(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        self._deactivate(request, list(queryset))

    def message_user(self, request: HttpRequest, message: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(request, "_users_deactivated", False) and "deleted" in str(message):
            return  # the admin's "deleted successfully" would be untrue: _deactivate said what happened
        super().message_user(request, message, *args, **kwargs)

    def _deactivate(self, request: HttpRequest, users: list[User]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        for user in users:
            user_deactivate(actor=actor, user=user)
        request._users_deactivated = True  # type: ignore[attr-defined]
        names = ", ".join(user.get_username() for user in users)
        messages.warning(
            request,
            f"Users are never deleted, so that their names stay in the audit trail: {names} "
            f"{'was' if len(users) == 1 else 'were'} deactivated instead and can no longer sign in.",
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if name != "password"]
        if changed or not change:
            account_event_record(
                actor=request.user if isinstance(request.user, User) else None,
                subject=obj,
                action=AccountAction.USER_CHANGED,
                detail=("created; " if not change else "")
                + ", ".join(f"{name}={form.cleaned_data.get(name)!s}"[:80] for name in changed),
            )


register_audited(
    Patient,
    RECORD_SERVICES[Patient],
    list_display=("study_id", "site", "sex", "year_of_birth"),
    list_filter=("site", "sex"),
    search_fields=("study_id",),
)


def _logged(view_name: str) -> Any:
    """An admin view of an identity that logs the read first (the admin is a path like the web and API)."""

    def view(self: Any, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> Any:
        identity = self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        if identity is not None and isinstance(request.user, User):
            identity_reads_log(request.user, [identity.patient_id], channel="admin", path=request.path)
        return getattr(super(type(self), self), view_name)(request, object_id, *args, **kwargs)

    return view


register_audited(
    PatientIdentity,
    RECORD_SERVICES[PatientIdentity],
    change_view=_logged("change_view"),
    history_view=_logged("history_view"),
    history_form_view=_logged("history_form_view"),
    list_display=("patient",),
    search_fields=("patient__study_id",),
    readonly_fields=("nhs_number_hash",),
)
register_audited(
    Consent,
    RECORD_SERVICES[Consent],
    list_display=("patient", "form_version", "consent_date"),
    search_fields=("patient__study_id",),
)


def _withdrawal_never_changed(**_: Any) -> Any:
    raise PermissionDenied("A withdrawal is never changed: add a correction (a new withdrawal that corrects it).")


@admin.register(ConsentWithdrawal)
class ConsentWithdrawalAdmin(AuditedAdmin):
    """Withdrawals are added through `consent_withdraw` (as on the web and the API) and never
    changed or deleted here: an entry made in error is corrected by adding one that corrects it."""

    create_service = staticmethod(lambda actor, values: consent_withdraw(actor=actor, **values))
    update_service = staticmethod(_withdrawal_never_changed)
    fields = ("patient", "level", "effective_on", "reason", "corrects")
    list_display = ("patient", "level", "effective_on", "recorded_by", "recorded_at", "corrects")
    list_filter = ("level",)
    search_fields = ("patient__study_id",)
    raw_id_fields = ("patient", "corrects")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)


register_audited(
    Diagnosis,
    RECORD_SERVICES[Diagnosis],
    list_display=("patient", "symptom_onset_date", "diagnosis_date", "onset_region", "el_escorial"),
    search_fields=("patient__study_id",),
)
register_audited(
    AlsfrsrAssessment,
    RECORD_SERVICES[AlsfrsrAssessment],
    list_display=("patient", "assessment_date", "total", "kings_stage", "mitos_stage"),
    search_fields=("patient__study_id",),
    readonly_fields=AlsfrsrAssessment.DERIVED_FIELDS,
)
register_audited(
    BiomarkerResult,
    RECORD_SERVICES[BiomarkerResult],
    list_display=("patient", "sample_date", "analyte", "value", "unit", "assay"),
    list_filter=("analyte",),
    search_fields=("patient__study_id",),
    exclude=("value",),  # derived from the reported value and unit
)
register_audited(
    ClinicalEvent,
    RECORD_SERVICES[ClinicalEvent],
    list_display=("patient", "event_type", "event_date"),
    list_filter=("event_type",),
    search_fields=("patient__study_id",),
)
register_audited(
    AdverseEvent,
    RECORD_SERVICES[AdverseEvent],
    list_display=("patient", "term", "onset_date", "ctcae_grade", "serious"),
    list_filter=("serious", "ctcae_grade"),
    search_fields=("patient__study_id", "term"),
)
