"""Adapters do not write models directly: web pages, the API, the importer and the admin call services.

A contract of docs/architecture.md ("One action, one service") that import-linter cannot
express, checked on the syntax tree of every adapter module (`clinic`, `pharmacy`, `api`,
`interchange`; their `services` modules are the services, and the migrations are not code that
runs on requests). A write is a model or queryset method that writes (`save`, `delete`,
`create`, `bulk_create`, `update` on a queryset, ...), simple-history's bulk helpers, the
registry's low-level `registry.bulk`, or SQL that writes. The bulk import writes through the
registry's bulk writing service (`registry.services.records_bulk_insert` and friends).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("clinic", "pharmacy", "api", "interchange")

#: Methods that write whatever object they are called on (a model, a manager, a form, a serializer).
WRITING_METHODS = frozenset(
    {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
)
#: `update` writes when called on a queryset (dicts and sets have one too).
QUERYSET_SOURCES = frozenset(
    {"objects", "_default_manager", "all", "filter", "exclude", "select_for_update", "select_related", "only"}
)
WRITING_FUNCTIONS = frozenset({"bulk_create_with_history", "bulk_update_with_history", "bulk_insert_with_history"})
WRITING_MODULES = ("simple_history.utils", "registry.bulk")
WRITING_SQL = ("INSERT", "UPDATE", "DELETE", "COPY", "TRUNCATE", "MERGE")


def receiver_names(node: ast.expr) -> list[str]:
    """The attribute and call chain a method is called on: `X.objects.filter(...)` -> [filter, objects, X]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            if isinstance(node, ast.Name):
                names.append(node.id)
            return names


def sql_text(call: ast.Call) -> str:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
        return str(first.values[0].value)
    return ""


def writes_in(source: str) -> list[str]:
    """Every direct write in a module's source, as `line: what`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(WRITING_MODULES):
            found.append(f"{node.lineno}: imports {node.module}")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name.startswith(WRITING_MODULES)]
        elif isinstance(node, ast.Call):
            found += _call_write(node)
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


def _call_write(call: ast.Call) -> list[str]:
    func = call.func
    if isinstance(func, ast.Name) and func.id in WRITING_FUNCTIONS:
        return [f"{call.lineno}: {func.id}()"]
    if not isinstance(func, ast.Attribute):
        return []
    method = func.attr
    receiver = receiver_names(func.value)
    where = ".".join(reversed(receiver))
    if method in WRITING_FUNCTIONS or method in WRITING_METHODS:
        return [f"{call.lineno}: {where}.{method}()"]
    if method == "update" and QUERYSET_SOURCES & set(receiver):
        return [f"{call.lineno}: {where}.update()"]
    if method in ("execute", "copy") and sql_text(call).lstrip().upper().startswith(WRITING_SQL):
        return [f"{call.lineno}: {where}.{method}() writes SQL"]
    return []


def adapter_modules() -> list[Path]:
    paths = []
    for package in ADAPTERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or path.stem == "services" or "services" in parts[:-1]:
                continue
            paths.append(path)
    return paths


@pytest.mark.parametrize("path", adapter_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_adapters_write_no_model_directly_but_call_services(path):
    assert writes_in(path.read_text(encoding="utf-8")) == []


def test_every_adapter_package_is_checked():
    checked = {path.relative_to(ROOT).parts[0] for path in adapter_modules()}
    assert checked == set(ADAPTERS)
    assert ROOT / "interchange" / "loaders" / "patients.py" in adapter_modules()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("record.save()", ["1: record.save()"]),
        ("form.save(commit=True)", ["1: form.save()"]),
        ("Patient.objects.create(study_id='x')", ["1: Patient.objects.create()"]),
        ("Batch.objects.filter(pk=1).update(quantity_remaining=0)", ["1: Batch.objects.filter.update()"]),
        ("Patient.objects.filter(pk=1).delete()", ["1: Patient.objects.filter.delete()"]),
        ("Site.objects.bulk_create(sites)", ["1: Site.objects.bulk_create()"]),
        ("bulk_update_with_history(objs, Batch, ['x'])", ["1: bulk_update_with_history()"]),
        ("from simple_history.utils import bulk_create_with_history", ["1: imports simple_history.utils"]),
        ("from registry.bulk import bulk_insert_with_history", ["1: imports registry.bulk"]),
        ("cursor.execute('UPDATE registry_site SET next_patient_number = 2')", ["1: cursor.execute() writes SQL"]),
        ("cursor.copy(f'COPY {table} FROM STDIN')", ["1: cursor.copy() writes SQL"]),
    ],
)
def test_the_check_finds_each_kind_of_direct_write(source, expected):
    assert writes_in(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "desired.update(values)",  # a dict
        "changed_fields[part].update(names)",  # a set
        "cursor.execute('SELECT pg_advisory_xact_lock(%s)', [1])",
        "records_bulk_insert(actor=user, records=new, model=Batch, reason='import x')",  # the service
        "Patient.objects.filter(pk__in=pks).values_list('pk', 'version')",
    ],
)
def test_the_check_leaves_reads_and_plain_containers_alone(source):
    assert writes_in(source) == []
