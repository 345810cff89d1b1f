"""Value labels of the dataset's coded columns, read from the models' own choices.

The statistics-package exports (Stata, SPSS, SAS, R) carry these so that a coded column reads
as words ("Managed Access Programme (ILT-101)") while the value stays the code of the CSV and
the API. They are taken from the choices that validate the data, so a new choice shows up here
without a second list to keep in step. Open vocabularies (site codes, units) have no labels:
they stay text.
"""

from __future__ import annotations

from collections.abc import Sequence

from access_programme.models import ProductCode, QuantityUnit, RouteCode
from analytics import dataset_columns
from registry.models import (
    AeAction,
    AeOutcome,
    Analyte,
    CtcaeGrade,
    ElEscorial,
    EventType,
    OnsetRegion,
    Relatedness,
    Sex,
    TriState,
    YesNoUnknown,
)
from registry.scoring import KINGS_STAGES, MITOS_STAGES

#: (stored value, label) pairs, in the order a table of counts should list them.
Labels = Sequence[tuple[object, str]]

YES_NO: Labels = ((False, "No"), (True, "Yes"))
PNFH_STRATA: Labels = (
    ("below_750", "CSF pNFH below 750 pg/mL"),
    ("low", "CSF pNFH 750-3700 pg/mL (MIROCALS low)"),
    ("high", "CSF pNFH above 3700 pg/mL (MIROCALS high)"),
    ("missing", "No CSF pNFH within the baseline window"),
)

_BY_COLUMN: dict[str, Labels] = {
    "route": tuple(RouteCode.choices),
    "sex": tuple(Sex.choices),
    "onset_region": tuple(OnsetRegion.choices),
    "el_escorial": tuple(ElEscorial.choices),
    "pnfh_stratum": PNFH_STRATA,
    "c9orf72": tuple(TriState.choices),
    "ftd": tuple(YesNoUnknown.choices),
    "os_event": ((0, "Censored (alive at last contact)"), (1, "Died")),
    "composite_event": ((0, "Censored"), (1, "Death, tracheostomy or permanent ventilation")),
    "kings_stage": tuple(KINGS_STAGES),
    "mitos_stage": tuple(MITOS_STAGES),
    "analyte": tuple(Analyte.choices),
    "product": tuple(ProductCode.choices),
    "quantity_unit": tuple(QuantityUnit.choices),
    "ctcae_grade": tuple(CtcaeGrade.choices),
    "relatedness": tuple(Relatedness.choices),
    "action_taken": tuple(AeAction.choices),
    "outcome": tuple(AeOutcome.choices),
    "event_type": tuple(EventType.choices),
}


def value_labels(table: str) -> dict[str, Labels]:
    """Column name -> (value, label) pairs for the table's coded columns (booleans are No/Yes)."""
    labelled: dict[str, Labels] = {}
    for column in dataset_columns.TABLES[table]:
        if column.type == "boolean":
            labelled[column.name] = YES_NO
        elif column.name in _BY_COLUMN:
            labelled[column.name] = _BY_COLUMN[column.name]
    return labelled


def value_label_rows(table: str) -> list[dict[str, str]]:
    """The value labels as rows (table, column, value, label) for the dictionary file beside an export."""
    return [
        {"table": table, "column": name, "value": str(value), "label": label}
        for name, pairs in value_labels(table).items()
        for value, label in pairs
    ]


def labels_for(column: str) -> dict[str, str]:
    """Stored value (as text) -> label for one coded column; empty for an open vocabulary."""
    return {str(value): label for value, label in _BY_COLUMN.get(column, ())}
