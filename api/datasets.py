"""Dataset endpoints: the analysis-ready tables (CSV streamed, Parquet), the data dictionary, and
statistics-package exports (Stata, SPSS, SAS, R) built by a worker and downloaded when ready.

The rows are what the requesting user may see (registry.selectors), pseudonymised, and every
download is written to the export log by analytics.exports, the same code the web page and
`manage.py export_dataset` use.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import renderers, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_lockout import LockoutTokenAuthentication
from analytics import dataset_columns, exports, selectors, services
from analytics.bundles import BUNDLE_FORMATS
from analytics.models import ExportJob, ExportLog
from api import serializers
from api.permissions import RegistryAccess
from api.schema_marks import DeferredSchemaViewSet, extend_schema
from registry.http import signed_in_user


class _FileRenderer(renderers.BaseRenderer):
    """Lets clients ask for the file's media type; errors still render as JSON text."""

    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode("utf-8")


class CsvRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


class ParquetRenderer(_FileRenderer):
    media_type = "application/vnd.apache.parquet"
    format = "parquet"


class MarkdownRenderer(_FileRenderer):
    media_type = "text/markdown"
    format = "md"


class ZipRenderer(_FileRenderer):
    media_type = "application/zip"
    format = "zip"


TABLE_PARAMETER = OpenApiParameter(
    "table", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(exports.TABLES), description="Dataset table."
)


class _DatasetBase(DeferredSchemaViewSet, viewsets.ViewSet):
    authentication_classes = [LockoutTokenAuthentication, SessionAuthentication]
    permission_classes = [RegistryAccess]


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class DatasetViewSet(_DatasetBase):
    """The analysis-ready tables: `patients` (one row per patient) and the long tables beside it."""

    lookup_field = "table"
    lookup_value_regex = "|".join(exports.TABLES)

    def _table(self, request: Request, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "description": dataset_columns.TABLE_DESCRIPTIONS[name],
            "csv_url": request.build_absolute_uri(reverse("api:dataset-csv", kwargs={"table": name})),
            "parquet_url": request.build_absolute_uri(reverse("api:dataset-parquet", kwargs={"table": name})),
            "columns": dataset_columns.dictionary_rows([name]),
        }

    @extend_schema(responses=serializers.DatasetTableSerializer(many=True))
    def list(self, request: Request) -> Response:
        data = [self._table(request, name) for name in exports.TABLES]
        return Response(serializers.DatasetTableSerializer(data, many=True).data)

    @extend_schema(parameters=[TABLE_PARAMETER], responses=serializers.DatasetTableSerializer)
    def retrieve(self, request: Request, table: str) -> Response:
        return Response(serializers.DatasetTableSerializer(self._table(request, table)).data)

    @extend_schema(
        parameters=[TABLE_PARAMETER],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV, streamed.")},
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, CsvRenderer])
    def csv(self, request: Request, table: str) -> StreamingHttpResponse:
        """The table as CSV (UTF-8, header row, formula-like text cells prefixed with a single quote)."""
        return exports.csv_response(table=table, user=signed_in_user(request), channel=ExportLog.Channel.API)

    @extend_schema(
        parameters=[TABLE_PARAMETER],
        responses={(200, "application/vnd.apache.parquet"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, ParquetRenderer])
    def parquet(self, request: Request, table: str) -> FileResponse:
        """The table as Parquet, with column types from the data dictionary."""
        return exports.parquet_response(table=table, user=signed_in_user(request), channel=ExportLog.Channel.API)


class DatasetDictionaryViewSet(_DatasetBase):
    """The data dictionary, generated from the one declarative spec in analytics/dataset.py."""

    @extend_schema(responses=serializers.DictionaryEntrySerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(serializers.DictionaryEntrySerializer(dataset_columns.dictionary_rows(), many=True).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, CsvRenderer])
    def csv(self, request: Request) -> HttpResponse:
        return exports.dictionary_response(
            file_format="csv", user=signed_in_user(request), channel=ExportLog.Channel.API
        )

    @extend_schema(responses={(200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, MarkdownRenderer])
    def markdown(self, request: Request) -> HttpResponse:
        return exports.dictionary_response(
            file_format="md", user=signed_in_user(request), channel=ExportLog.Channel.API
        )


# ---- statistics-package exports -------------------------------------------------------------------
class ExportRequestSerializer(drf_serializers.Serializer):
    table = drf_serializers.ChoiceField(choices=list(exports.TABLES))
    format = drf_serializers.ChoiceField(choices=list(BUNDLE_FORMATS), help_text="dta, sav, xpt (SAS v5) or r.")


class ExportJobSerializer(drf_serializers.Serializer):
    id = drf_serializers.IntegerField()
    table = drf_serializers.CharField()
    format = drf_serializers.CharField(source="file_format")
    status = drf_serializers.ChoiceField(choices=ExportJob.Status.choices)
    progress_percent = drf_serializers.IntegerField()
    progress_done = drf_serializers.IntegerField(help_text="Rows read so far.")
    progress_total = drf_serializers.IntegerField(help_text="Rows to read.")
    progress_step = drf_serializers.CharField()
    created_at = drf_serializers.DateTimeField()
    finished_at = drf_serializers.DateTimeField(allow_null=True)
    expires_at = drf_serializers.DateTimeField(allow_null=True, help_text="When the file is deleted.")
    row_count = drf_serializers.IntegerField(allow_null=True)
    size_bytes = drf_serializers.IntegerField(allow_null=True)
    sha256 = drf_serializers.CharField(help_text="SHA-256 of the data file inside the zip.")
    error = drf_serializers.CharField()
    url = drf_serializers.SerializerMethodField()
    download_url = drf_serializers.SerializerMethodField()

    def get_url(self, job: ExportJob) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:dataset-export-detail", args=[job.pk]))

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.SUCCEEDED:
            return None
        return self.context["request"].build_absolute_uri(reverse("api:dataset-export-download", args=[job.pk]))


JOB_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Export job id.")


class DatasetExportViewSet(DeferredSchemaViewSet, viewsets.ViewSet):
    """Statistics-package exports of a dataset table, zipped with the data dictionary.

    POST starts one (202): a worker builds it while you poll its `url` for `status` and
    `progress_percent`; when `status` is `succeeded`, `download_url` gives the zip until
    `expires_at`. You see and download only your own exports. Every export is logged.
    """

    model = ExportJob  # of the detail routes (the schemathesis run names a real one)
    authentication_classes = [LockoutTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]  # every role may export pseudonymised data

    def _job(self, request: Request, pk: str) -> ExportJob:
        job = selectors.export_job_of(signed_in_user(request), int(pk)) if str(pk).isdigit() else None
        if job is None:
            raise Http404("No such export.")
        return job

    @extend_schema(responses=ExportJobSerializer(many=True))
    def list(self, request: Request) -> Response:
        jobs = selectors.export_jobs_of(signed_in_user(request))[:50]
        return Response(ExportJobSerializer(jobs, many=True, context={"request": request}).data)

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportJobSerializer})
    def create(self, request: Request) -> Response:
        wanted = ExportRequestSerializer(data=request.data)
        wanted.is_valid(raise_exception=True)
        try:
            job = services.export_job_request(
                actor=signed_in_user(request),
                table=wanted.validated_data["table"],
                file_format=wanted.validated_data["format"],
                channel=ExportLog.Channel.API,
            )
        except DjangoValidationError as refused:
            raise ValidationError({"non_field_errors": refused.messages}) from refused
        body = ExportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(parameters=[JOB_ID], responses=ExportJobSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ExportJobSerializer(self._job(request, pk), context={"request": request}).data)

    @extend_schema(
        parameters=[JOB_ID],
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip.")},
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, ZipRenderer])
    def download(self, request: Request, pk: str) -> FileResponse:
        """The export's zip: data file, data dictionary, value labels, README (404 until ready or after expiry)."""
        return exports.export_job_file_response(self._job(request, pk))
