"""Discovery of every URL pattern (URL conf) and API path (OpenAPI schema), and the data to fill them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

#: Left out of the matrix, and why: the Django admin has its own staff/superuser gate and is tested
#: in tests/registry/test_admin.py; /static/ is files, not data.
SKIPPED_PREFIXES = ("admin/", "static/")


@dataclass(frozen=True)
class Pattern:
    route: str  # e.g. "patients/<str:study_id>/"
    name: str  # namespaced name, e.g. "clinic:patient_detail"


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> list[Pattern]:
    found: list[Pattern] = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, route, ns)
        elif isinstance(entry, URLPattern):
            found.append(Pattern(route.lstrip("^"), f"{namespace}{entry.name}"))
    return found


def discovered_patterns() -> list[Pattern]:
    return [p for p in _walk(get_resolver().url_patterns) if not p.route.startswith(SKIPPED_PREFIXES)]


def discovered_names() -> set[str]:
    return {p.name for p in discovered_patterns()}


def schema_paths() -> dict[str, set[str]]:
    """OpenAPI path -> methods, from the schema the API publishes."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path: {m.upper() for m in ops if m != "parameters"} for path, ops in schema["paths"].items()}


def clinical_models() -> list[type[models.Model]]:
    """Every model whose rows are registry data, and their history tables."""
    labels = ("registry", "access_programme", "interchange", "survival")
    return [m for m in apps.get_models() if m._meta.app_label in labels]


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in clinical_models()}


def fill(path: str, values: dict[str, object]) -> str:
    """Replace {param} (OpenAPI) placeholders."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
