"""The registry interchange format (RIF): its version, files, columns, natural keys and cell parsing.

One declaration per file serves the importer (which columns are required, how each cell is
read, which columns form the natural key) and the exporter (column order). Cell parsing is
strict on purpose: the format says an unknown value is an error, not a silent default, so a
cell is either read exactly or the row is rejected with a message naming the column and the
value. Range and consistency rules are not here: they live in the models and are applied by
the importer through them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from access_programme.models import ProductCode, QuantityUnit, RouteCode
from registry import scoring
from registry.models import (
    SERIOUSNESS_CRITERIA,
    AeAction,
    AeOutcome,
    Analyte,
    ElEscorial,
    EventType,
    OnsetRegion,
    Relatedness,
    Sex,
    TriState,
    YesNoUnknown,
)

FORMAT_NAME = "RIF"
#: The version this registry writes. Any change to the files (a column, a value, a rule the
#: format states) bumps it, with its entry in docs/interchange.md ("Versions").
FORMAT_VERSION = 2
#: The versions it reads: v1 (before versioning, no manifest) imports as it always did.
READABLE_VERSIONS = (1, 2)
#: From v2, the file naming the format, its version and the data cut-off (see `manifest`).
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("format", "version", "data_cutoff")


def version_label(version: int = FORMAT_VERSION) -> str:
    return f"{FORMAT_NAME} v{version}"


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message names the value."""


Parser = Callable[[str], Any]

_INT = re.compile(r"-?\d+", re.ASCII)
_NUMBER = re.compile(r"-?\d+(\.\d+)?", re.ASCII)


def parse_text(value: str) -> str:
    return value


def parse_date(value: str) -> dt.date:
    # YYYY-MM-DD only: length and dashes here, digits and calendar by fromisoformat.
    if len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii():
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise CellError(f"'{value}' is not a date in the form YYYY-MM-DD")


def parse_int(value: str) -> int:
    if value.isascii() and value.isdigit():  # the common case, without the regular expression
        return int(value)
    if not _INT.fullmatch(value):
        raise CellError(f"'{value}' is not a whole number")
    return int(value)


def parse_number(value: str) -> Decimal:
    plain = value.isascii() and value.replace(".", "", 1).isdigit() and value[0] != "." and value[-1] != "."
    if not plain and not _NUMBER.fullmatch(value):
        hint = " (use . as the decimal separator)" if "," in value else ""
        raise CellError(f"'{value}' is not a number{hint}")
    try:
        return Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - only plain decimals get here
        raise CellError(f"'{value}' is not a number") from error


def enum(values: Sequence[str], *, convert: Callable[[str], Any] | None = None) -> Parser:
    allowed = tuple(values)
    allowed_set = frozenset(allowed)
    listing = ", ".join(allowed)

    def parse(value: str) -> Any:
        if value not in allowed_set:
            raise CellError(f"'{value}' is not one of: {listing}")
        return convert(value) if convert else value

    parse.allowed = allowed  # type: ignore[attr-defined]
    return parse


parse_yes_no = enum(("yes", "no"), convert=lambda value: value == "yes")


def parse_criteria(value: str) -> list[str]:
    """`;`-separated seriousness criteria, each one of SERIOUSNESS_CRITERIA."""
    names = value.split(";")
    unknown = [name for name in names if name not in SERIOUSNESS_CRITERIA]
    if unknown:
        raise CellError(f"'{unknown[0]}' is not one of: {', '.join(SERIOUSNESS_CRITERIA)} (separate them with ;)")
    if len(set(names)) != len(names):
        raise CellError(f"'{value}' names a criterion twice")
    return names


@dataclass(frozen=True)
class Column:
    """One column. A `required` column must be in the header; unless `may_be_empty`, every row
    must also give it a value. Optional columns may be absent from the header altogether."""

    name: str
    parse: Parser = parse_text
    required: bool = True
    may_be_empty: bool = False
    export_only: bool = False

    @property
    def needs_value(self) -> bool:
        return self.required and not self.may_be_empty


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    export_only: tuple[Column, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def export_columns(self) -> list[str]:
        return self.column_names + [c.name for c in self.export_only]

    @property
    def export_text_columns(self) -> list[int]:
        """Positions of the free-text columns among `export_columns`: the only cells a formula
        could hide in, so the only ones the exporter's CSV writer neutralises (registry.safe_csv)."""
        return [i for i, c in enumerate(self.columns) if c.parse is parse_text]

    def column(self, name: str) -> Column:
        for column in (*self.columns, *self.export_only):
            if column.name == name:
                return column
        raise KeyError(name)


def _choices(choices: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in choices.values)


PATIENTS = FileSpec(
    name="patients.csv",
    key=("patient_id",),
    columns=(
        Column("patient_id"),
        Column("site_code"),
        Column("route", enum(_choices(RouteCode))),
        Column("sex", enum(_choices(Sex))),
        Column("year_of_birth", parse_int),
        Column("symptom_onset_date", parse_date),
        Column("diagnosis_date", parse_date),
        Column("onset_region", enum(_choices(OnsetRegion))),
        Column("el_escorial", enum(_choices(ElEscorial))),
        Column("riluzole_start_date", parse_date, required=False),
        Column("enrolment_date", parse_date),
        Column("first_dose_date", parse_date, required=False),
        Column("baseline_svc_percent", parse_number, required=False),
        Column("baseline_fvc_percent", parse_number, required=False),
        Column("c9orf72", enum(_choices(TriState)), required=False),
        Column("ftd", enum(_choices(YesNoUnknown)), required=False),
        Column("weight_kg", parse_number, required=False),
        Column("alsfrsr_total_at_diagnosis", parse_int, required=False),
    ),
)

ITEM_COLUMNS = scoring.ITEM_FIELDS
ALSFRS_R = FileSpec(
    name="alsfrs_r.csv",
    key=("patient_id", "assessment_date"),
    columns=(
        Column("patient_id"),
        Column("assessment_date", parse_date),
        # Items may be empty (5a/5b: exactly one is scored); the model says which must be scored.
        *(Column(name, parse_int, may_be_empty=True) for name in ITEM_COLUMNS),
    ),
    export_only=tuple(
        Column(name, export_only=True)
        for name in ("total", "bulbar", "fine_motor", "gross_motor", "respiratory", "kings_stage", "mitos_stage")
    ),
)

BIOMARKERS = FileSpec(
    name="biomarkers.csv",
    key=("patient_id", "sample_date", "analyte"),
    columns=(
        Column("patient_id"),
        Column("sample_date", parse_date),
        Column("analyte", enum(_choices(Analyte))),
        Column("value", parse_number),
        Column("unit"),
        Column("assay"),
    ),
)

EVENTS = FileSpec(
    name="events.csv",
    key=("patient_id", "event_type", "event_date"),
    columns=(
        Column("patient_id"),
        Column("event_date", parse_date),
        Column("event_type", enum(_choices(EventType))),
        Column("detail", required=False),
    ),
)

CYCLES = FileSpec(
    name="cycles.csv",
    key=("patient_id", "cycle_number"),
    columns=(
        Column("patient_id"),
        Column("cycle_number", parse_int),
        Column("start_date", parse_date),
        Column("planned_dose_miu", parse_number, required=False),
        Column("days_administered", parse_int),
        Column("total_dose_miu", parse_number, required=False),
        Column("interrupted", parse_yes_no, required=False),
        Column("interruption_reason", required=False),
    ),
)

DISPENSING = FileSpec(
    name="dispensing.csv",
    key=("patient_id", "dispensed_on", "batch_number"),
    columns=(
        Column("patient_id"),
        Column("cycle_number", parse_int),
        Column("dispensed_on", parse_date),
        Column("product", enum(_choices(ProductCode))),
        Column("batch_number"),
        Column("batch_expiry", parse_date),
        Column("quantity", parse_int),
        Column("quantity_unit", enum(_choices(QuantityUnit))),
        Column("dose_miu_per_unit", parse_number),
        Column("supplier"),
        Column("prescriber"),
        Column("dispensed_by"),
    ),
)
#: Dispensing fields the format does not carry: reconstitution and beyond-use times and the
#: cold-chain confirmation are point-of-supply records kept by the dispensing pharmacy, so the
#: rules requiring them are checked when a pharmacist records a supply, not on import.
DISPENSING_FIELDS_NOT_IN_RIF = frozenset({"reconstituted_at", "beyond_use_at", "cold_chain_confirmed"})
#: Batch fields the format does not carry; a batch created from dispensing.csv lacks them.
BATCH_FIELDS_NOT_IN_RIF = frozenset({"manufacturer_licence", "max_hours_after_reconstitution"})

ADVERSE_EVENTS = FileSpec(
    name="adverse_events.csv",
    key=("patient_id", "term", "onset_date"),
    columns=(
        Column("patient_id"),
        Column("term"),
        Column("onset_date", parse_date),
        Column("resolution_date", parse_date, required=False),
        Column("ctcae_grade", enum(("1", "2", "3", "4", "5"), convert=int)),
        Column("serious", parse_yes_no),
        Column("seriousness_criteria", parse_criteria, required=False),
        Column("relatedness", enum(_choices(Relatedness))),
        Column("action_taken", enum(_choices(AeAction)), required=False),
        Column("outcome", enum(_choices(AeOutcome)), required=False),
        Column("meddra_llt_code", required=False),
    ),
)

#: Every file of the format, in the order the importer reads them: patients first (everything
#: refers to them), events next (a death bounds every other record), dispensing last (it refers
#: to cycles).
FILES: tuple[FileSpec, ...] = (PATIENTS, EVENTS, ALSFRS_R, BIOMARKERS, ADVERSE_EVENTS, CYCLES, DISPENSING)
#: The same files with the pharmacy's first. After patients and events, the files fall in two
#: groups neither of which reads what the other writes: the clinical records (ALSFRS-R,
#: biomarkers, adverse events) and the pharmacy's (cycles, then the dispensing that names them).
#: The patients' follow-up dates (`next_due_refresh`) are recomputed from both whichever comes
#: last. So either group may go first (tests/interchange/test_parallel.py imports in both orders).
PHARMACY_FIRST: tuple[FileSpec, ...] = (PATIENTS, EVENTS, CYCLES, DISPENSING, ALSFRS_R, BIOMARKERS, ADVERSE_EVENTS)
FILES_BY_NAME = {spec.name: spec for spec in FILES}

#: Columns a hospital spreadsheet may carry that must never enter the registry through RIF.
IDENTIFIER_COLUMNS = frozenset(
    {
        "nhs_number",
        "nhs_no",
        "chi_number",
        "hospital_number",
        "mrn",
        "name",
        "given_name",
        "first_name",
        "family_name",
        "surname",
        "last_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "postcode",
        "address",
    }
)


def format_date(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def format_number(value: Decimal | int | None) -> str:
    """Plain decimal notation without trailing zeros: 85.0 -> 85, 1700.5000 -> 1700.5."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def format_yes_no(value: bool) -> str:
    return "yes" if value else "no"
