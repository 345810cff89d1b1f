"""The data dictionary is generated from the one spec and lists exactly the dataset's columns."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from analytics import dataset, exports

pytestmark = pytest.mark.requirement("EXP-01")

TYPES = {"string", "category", "integer", "number", "boolean", "date", "datetime"}


def _empty_dataset() -> pd.DataFrame:
    frames = {name: pd.DataFrame(columns=list(cols)) for name, cols in dataset.INPUT_COLUMNS.items()}
    return dataset.build_patient_dataset(**frames)


def test_the_dictionary_lists_exactly_the_patient_dataset_columns():
    listed = [row["column"] for row in dataset.dictionary_rows(["patients"])]
    assert listed == list(_empty_dataset().columns)


def test_every_dictionary_entry_has_a_type_definition_and_source():
    for row in dataset.dictionary_rows():
        assert row["type"] in TYPES and row["definition"] and row["source"], row


@pytest.mark.django_db
def test_the_csv_dictionary_has_one_row_per_column_of_every_table():
    text = exports.dictionary_text(file_format="csv", user=None, channel="command")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["table", "column", "type", "unit", "definition", "source"]
    assert len(rows) == sum(len(columns) for columns in dataset.TABLES.values())


def test_the_markdown_dictionary_documents_every_column():
    text = dataset.dictionary_markdown()
    for table, columns in dataset.TABLES.items():
        assert f"## {table}" in text
        for column in columns:
            assert f"| `{column.name}` |" in text
