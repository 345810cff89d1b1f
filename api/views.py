"""API v1 viewsets: thin. Reads go through registry.selectors, writes through the services.

Rules kept here and nowhere else in the API:
* rows are scoped by `records_visible_to` / `patients_visible_to`, so a clinician asking for
  another site's record gets 404, exactly like the web app;
* writes are allowed to the roles of the view's `write_area` (registry.roles); analysts never;
* updates need `version` (optimistic locking: a stale one is 409 Conflict) and a reason for
  change (`reason` in the body or the `X-Change-Reason` header); there is no DELETE, as in the
  web app (clinical records are corrected, never erased).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import HttpRequest, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.serializers import BaseSerializer

from access_programme import services as programme_services
from access_programme.models import Batch, Dispensing, Enrolment, Product, Route, TreatmentCycle
from accounts.api_lockout import LockoutTokenAuthentication
from api import filters, serializers
from api.pagination import IdCursorPagination
from api.permissions import RegistryAccess, SeesIdentity
from api.schema_marks import DeferredSchemaViewSet, extend_schema, extend_schema_view
from registry import services as registry_services
from registry.http import signed_in_user
from registry.models import (
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    ClinicalRecord,
    Consent,
    ConsentWithdrawal,
    Diagnosis,
    Patient,
    PatientIdentity,
    Site,
    User,
)
from registry.roles import Area
from registry.selectors import identity_reads_log, patients_visible_to, records_visible_to, sites_visible_to

REASON_HEADER = "X-Change-Reason"
REASON_PARAMETER = OpenApiParameter(
    REASON_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Reason for change (alternative to the `reason` body field); required for updates.",
)


#: Every resource's create and update services, from the app that owns the model.
RECORD_SERVICES = {**registry_services.RECORD_SERVICES, **programme_services.RECORD_SERVICES}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This record was changed by someone else after you loaded it."
    default_code = "stale_version"


def _django_error_detail(error: DjangoValidationError) -> Any:
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if key == "__all__" else key): value for key, value in error.message_dict.items()}
    return {"non_field_errors": error.messages}


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn the services' Django exceptions into API responses (400, 409; 403 is DRF's own)."""
    try:
        yield
    except registry_services.StaleRecordError as error:
        raise Conflict(detail=" ".join(error.messages)) from error
    except DjangoValidationError as error:
        raise exceptions.ValidationError(_django_error_detail(error)) from error


audited_schema = extend_schema_view(
    create=extend_schema(parameters=[REASON_PARAMETER]),
    update=extend_schema(parameters=[REASON_PARAMETER]),
    partial_update=extend_schema(parameters=[REASON_PARAMETER]),
)


class RegistryViewSet(DeferredSchemaViewSet, viewsets.GenericViewSet):
    """Base of every resource: authentication, permissions, scoping and cursor pagination."""

    # Token first, so an anonymous request gets 401 with a WWW-Authenticate challenge.
    authentication_classes = [LockoutTokenAuthentication, SessionAuthentication]
    permission_classes = [RegistryAccess]
    pagination_class = IdCursorPagination
    model: ClassVar[type[models.Model]]
    related: ClassVar[tuple[str, ...]] = ("patient",)
    write_area: ClassVar[Area | None] = None

    @property
    def actor(self) -> User:
        """The signed-in user (RegistryAccess lets no anonymous request through)."""
        return signed_in_user(self.request)

    def scoped_queryset(self, user: User) -> models.QuerySet[Any]:
        return records_visible_to(user, self.model)

    def get_queryset(self) -> models.QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return self.model._default_manager.none()
        return self.scoped_queryset(self.actor).select_related(*self.related)


class ReadOnlyRegistryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    pass


class AuditedViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, RegistryViewSet
):
    """A clinical resource written through the services with reason and version."""

    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    write_area: ClassVar[Area | None] = Area.CLINICAL

    # -- hooks the resources override with their service --------------------------------
    def create_record(self, data: dict[str, Any], *, reason: str) -> ClinicalRecord:
        create = RECORD_SERVICES[self.model].create
        if create is None:
            raise exceptions.MethodNotAllowed("POST", detail="These records are created when a patient is registered.")
        return create(actor=self.actor, **data)

    def update_record(
        self, instance: ClinicalRecord, data: dict[str, Any], *, reason: str, expected_version: int
    ) -> ClinicalRecord:
        return RECORD_SERVICES[self.model].update(
            record=instance, actor=self.actor, reason=reason, expected_version=expected_version, **data
        )

    # -- plumbing ---------------------------------------------------------------------------
    def _reason(self, data: dict[str, Any]) -> str:
        reason = (data.pop("reason", "") or self.request.headers.get(REASON_HEADER, "")).strip()
        if "\x00" in reason:  # the body field refuses NUL itself; the header does not
            raise exceptions.ValidationError({"reason": "Null characters are not allowed."})
        return reason

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        reason = self._reason(data)
        with service_errors():
            serializer.instance = self.create_record(data, reason=reason)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        reason = self._reason(data)
        instance = serializer.instance
        assert instance is not None  # UpdateModelMixin built the serializer on get_object()
        errors: dict[str, str] = {}
        if version is None:
            errors["version"] = "Send the version you loaded, so a change made meanwhile is not overwritten."
        if not reason:
            errors["reason"] = (
                f"A reason for change is required to edit clinical data (the reason field or {REASON_HEADER} header)."
            )
        for field in getattr(serializer, "create_only", ()):
            if field in data and data.pop(field) != getattr(instance, field):
                errors[field] = "This cannot be changed once the record exists."
        if errors:
            raise exceptions.ValidationError(errors)
        with service_errors():
            serializer.instance = self.update_record(instance, data, reason=reason, expected_version=version)


# ---- reference data --------------------------------------------------------------------------
class SiteViewSet(ReadOnlyRegistryViewSet):
    """Treating sites (yours, or all for analysts and data managers)."""

    model = Site
    related = ()
    serializer_class = serializers.SiteSerializer
    filterset_class = filters.SiteFilter

    @property
    def actor(self) -> User:
        """The signed-in user (RegistryAccess lets no anonymous request through)."""
        return signed_in_user(self.request)

    def scoped_queryset(self, user: User) -> models.QuerySet[Any]:
        return sites_visible_to(user)


class RouteViewSet(ReadOnlyRegistryViewSet):
    """Access routes (managed access, NHS specials, registry only)."""

    model = Route
    related = ()
    serializer_class = serializers.RouteSerializer
    filterset_fields = ("code",)

    @property
    def actor(self) -> User:
        """The signed-in user (RegistryAccess lets no anonymous request through)."""
        return signed_in_user(self.request)

    def scoped_queryset(self, user: User) -> models.QuerySet[Any]:
        return Route.objects.all()


class ProductViewSet(ReadOnlyRegistryViewSet):
    """IL-2LD products per route."""

    model = Product
    related = ("route",)
    serializer_class = serializers.ProductSerializer
    filterset_fields = ("code",)

    @property
    def actor(self) -> User:
        """The signed-in user (RegistryAccess lets no anonymous request through)."""
        return signed_in_user(self.request)

    def scoped_queryset(self, user: User) -> models.QuerySet[Any]:
        return Product.objects.all()


# ---- patients and clinical records -----------------------------------------------------------
@audited_schema
class PatientViewSet(AuditedViewSet):
    """Pseudonymous patients. Create registers a patient with diagnosis and consent, all or nothing."""

    model = Patient
    related = ("site",)
    serializer_class = serializers.PatientSerializer
    filterset_class = filters.PatientFilter

    @property
    def actor(self) -> User:
        """The signed-in user (RegistryAccess lets no anonymous request through)."""
        return signed_in_user(self.request)

    def scoped_queryset(self, user: User) -> models.QuerySet[Any]:
        return patients_visible_to(user)

    def create_record(self, data: dict[str, Any], *, reason: str) -> ClinicalRecord:
        missing = {name: "Required to register a patient." for name in ("diagnosis", "consent") if not data.get(name)}
        if missing:
            raise exceptions.ValidationError(missing)
        return registry_services.patient_register(
            actor=self.actor,
            site=data["site"],
            sex=data["sex"],
            year_of_birth=data["year_of_birth"],
            diagnosis=data["diagnosis"],
            consent=data["consent"],
        )

    def update_record(
        self, instance: ClinicalRecord, data: dict[str, Any], *, reason: str, expected_version: int
    ) -> ClinicalRecord:
        data.pop("diagnosis", None)  # baseline and consent are their own resources once registered
        data.pop("consent", None)
        return super().update_record(instance, data, reason=reason, expected_version=expected_version)


@audited_schema
class IdentityViewSet(AuditedViewSet):
    """Direct identifiers (decrypted). Never served to analysts: 403 for every method."""

    model = PatientIdentity
    serializer_class = serializers.IdentitySerializer
    filterset_class = filters.IdentityFilter
    permission_classes = [RegistryAccess, SeesIdentity]

    # Every identity the API serves is logged, as on the web (registry.selectors.identity_reads_log).
    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        shown = page if page is not None else queryset
        self._log_reads([identity.patient_id for identity in shown])
        return page

    def get_object(self) -> Any:
        identity = super().get_object()
        self._log_reads([identity.patient_id])
        return identity

    def _log_reads(self, patient_ids: list[int]) -> None:
        request = self.request
        identity_reads_log(signed_in_user(request), patient_ids, channel="API", path=request.path)


@audited_schema
class ConsentViewSet(AuditedViewSet):
    """Consents given (form version, scopes). Withdrawals are their own resource: consent-withdrawals/."""

    model = Consent
    serializer_class = serializers.ConsentSerializer
    filterset_class = filters.ConsentFilter


class ConsentWithdrawalViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, RegistryViewSet
):
    """Consent withdrawals by level, append-only: POST records one (levels only escalate), or with
    `corrects` the correction of one entered in error. Nothing is ever changed or deleted."""

    model = ConsentWithdrawal
    serializer_class = serializers.ConsentWithdrawalSerializer
    filterset_class = filters.ConsentWithdrawalFilter
    related = ("patient", "recorded_by")
    write_area = Area.CLINICAL
    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, serializer: BaseSerializer) -> None:
        with service_errors():
            serializer.instance = registry_services.consent_withdraw(actor=self.actor, **serializer.validated_data)


@audited_schema
class DiagnosisViewSet(AuditedViewSet):
    """Diagnosis and baseline covariates (one per patient)."""

    model = Diagnosis
    serializer_class = serializers.DiagnosisSerializer
    filterset_class = filters.DiagnosisFilter


@audited_schema
class AlsfrsrViewSet(AuditedViewSet):
    """ALSFRS-R assessments; totals, subscores, King's and MiToS stages and ΔFS are derived on save."""

    model = AlsfrsrAssessment
    serializer_class = serializers.AlsfrsrSerializer
    filterset_class = filters.AlsfrsrFilter


@audited_schema
class BiomarkerViewSet(AuditedViewSet):
    """Biomarker results; send the reported value and unit, the canonical value is derived."""

    model = BiomarkerResult
    serializer_class = serializers.BiomarkerSerializer
    filterset_class = filters.BiomarkerFilter


@audited_schema
class EventViewSet(AuditedViewSet):
    """Clinical events: death, tracheostomy, permanent ventilation, NIV, gastrostomy, withdrawal, …"""

    model = ClinicalEvent
    serializer_class = serializers.EventSerializer
    filterset_class = filters.EventFilter


@audited_schema
class AdverseEventViewSet(AuditedViewSet):
    """Adverse events with CTCAE grade and ICH E2A seriousness."""

    model = AdverseEvent
    serializer_class = serializers.AdverseEventSerializer
    filterset_class = filters.AdverseEventFilter


@audited_schema
class EnrolmentViewSet(AuditedViewSet):
    """Enrolments with the MIROCALS eligibility check recorded (unmet criteria need a justification)."""

    model = Enrolment
    related = ("patient", "route")
    serializer_class = serializers.EnrolmentSerializer
    filterset_class = filters.EnrolmentFilter


@audited_schema
class CycleViewSet(AuditedViewSet):
    """28-day treatment cycles (pharmacy)."""

    model = TreatmentCycle
    serializer_class = serializers.CycleSerializer
    filterset_class = filters.CycleFilter
    write_area = Area.PHARMACY


@audited_schema
class BatchViewSet(AuditedViewSet):
    """Product batches. Stock (quantity_remaining) changes only by dispensing."""

    model = Batch
    related = ("product",)
    serializer_class = serializers.BatchSerializer
    filterset_class = filters.BatchFilter
    write_area = Area.PHARMACY

    @property
    def actor(self) -> User:
        """The signed-in user (RegistryAccess lets no anonymous request through)."""
        return signed_in_user(self.request)

    def scoped_queryset(self, user: User) -> models.QuerySet[Any]:
        # Batches are pharmacy stock, not patient data: every registry user may trace them.
        return Batch.objects.all()


@extend_schema_view(create=extend_schema(parameters=[REASON_PARAMETER]))
class DispensingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, RegistryViewSet):
    """Supplies per cycle with batch traceability. Create only: corrections go through the audited admin,
    because they move stock between batches."""

    model = Dispensing
    related = ("patient",)
    serializer_class = serializers.DispensingSerializer
    filterset_class = filters.DispensingFilter
    write_area = Area.PHARMACY

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data.pop("reason", None)
        with service_errors():
            serializer.instance = programme_services.dispensing_record(actor=self.actor, **data)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """The 404 of an /api/ path that no route matches (config.urls.handler404): the body DRF gives
    for a record outside your queryset (`ErrorSerializer`), not Django's HTML page."""
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
