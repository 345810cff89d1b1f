"""Dataset endpoints: the analysis-ready tables (CSV streamed, Parquet) and the data dictionary.

The rows are what the requesting user may see (registry.selectors), pseudonymised, and every
download is written to the export log by analytics.exports, the same code the web page and
`manage.py export_dataset` use.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_lockout import LockoutTokenAuthentication
from analytics import dataset, exports
from analytics.models import ExportLog
from api import serializers
from api.permissions import RegistryAccess
from api.schema import RegistryAutoSchema


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


TABLE_PARAMETER = OpenApiParameter(
    "table", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(exports.TABLES), description="Dataset table."
)


class _DatasetBase(viewsets.ViewSet):
    authentication_classes = [LockoutTokenAuthentication, SessionAuthentication]
    permission_classes = [RegistryAccess]
    schema = RegistryAutoSchema()


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class DatasetViewSet(_DatasetBase):
    """The analysis-ready tables: `patients` (one row per patient) and the long tables beside it."""

    lookup_field = "table"
    lookup_value_regex = "|".join(exports.TABLES)

    def _table(self, request: Request, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "description": dataset.TABLE_DESCRIPTIONS[name],
            "csv_url": request.build_absolute_uri(reverse("api:dataset-csv", kwargs={"table": name})),
            "parquet_url": request.build_absolute_uri(reverse("api:dataset-parquet", kwargs={"table": name})),
            "columns": dataset.dictionary_rows([name]),
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
        return exports.csv_response(table=table, user=request.user, channel=ExportLog.Channel.API)

    @extend_schema(
        parameters=[TABLE_PARAMETER],
        responses={(200, "application/vnd.apache.parquet"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, ParquetRenderer])
    def parquet(self, request: Request, table: str) -> FileResponse:
        """The table as Parquet, with column types from the data dictionary."""
        return exports.parquet_response(table=table, user=request.user, channel=ExportLog.Channel.API)


class DatasetDictionaryViewSet(_DatasetBase):
    """The data dictionary, generated from the one declarative spec in analytics/dataset.py."""

    @extend_schema(responses=serializers.DictionaryEntrySerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(serializers.DictionaryEntrySerializer(dataset.dictionary_rows(), many=True).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, CsvRenderer])
    def csv(self, request: Request) -> HttpResponse:
        return exports.dictionary_response(file_format="csv", user=request.user, channel=ExportLog.Channel.API)

    @extend_schema(responses={(200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, MarkdownRenderer])
    def markdown(self, request: Request) -> HttpResponse:
        return exports.dictionary_response(file_format="md", user=request.user, channel=ExportLog.Channel.API)
