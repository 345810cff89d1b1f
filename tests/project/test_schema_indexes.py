"""No index of the registry's own tables is a prefix of another on the same table.

The longer index answers every lookup the shorter one did, so the shorter only costs each insert
(an import writes millions of rows) and disk. Django gives every foreign key a single-column index
of its own: a model whose unique constraint or composite index leads with that key declares it
`db_index=False`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Each index of these tables with its columns and their operator classes in order (a pattern-ops
# index, Django's `_like`, answers LIKE lookups that a default-class index does not); partial and
# expression indexes answer only some rows or values, so they neither cover another nor are covered.
INDEXES = """
SELECT t.relname, i.relname, ix.indisunique,
       array(SELECT a.attname || ' ' || c.opcname
             FROM unnest(ix.indkey::int2[], ix.indclass::oid[]) WITH ORDINALITY k(attnum, opclass, n)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             JOIN pg_opclass c ON c.oid = k.opclass ORDER BY k.n)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
WHERE t.relname = ANY(%s) AND ix.indpred IS NULL AND ix.indexprs IS NULL
"""


def _project_tables() -> list[str]:
    root = Path(settings.BASE_DIR).resolve()
    return sorted(
        model._meta.db_table
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(root) and ".venv" not in Path(config.path).parts
        for model in config.get_models()  # not the auto-created many-to-many tables: Django's own
        if model._meta.managed
    )


def test_the_check_sees_the_registrys_record_tables():
    tables = _project_tables()
    assert {"registry_biomarkerresult", "access_programme_dispensing", "survival_benchmark"} <= set(tables)


def test_no_index_is_a_prefix_of_another_index_on_the_same_table():
    with connection.cursor() as cursor:
        cursor.execute(INDEXES, [_project_tables()])
        indexes = cursor.fetchall()
    redundant = sorted(
        f"{table}.{name} {columns} is a prefix of {other} {longer}"
        for table, name, unique, columns in indexes
        if not unique
        for other_table, other, _, longer in indexes
        if other_table == table and len(longer) > len(columns) and longer[: len(columns)] == columns
    )
    assert redundant == []
