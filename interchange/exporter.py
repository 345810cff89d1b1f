"""Export the registry as a cohort in the interchange format (a folder or a .zip).

Every file is written in natural-key order, streamed from the database a few thousand rows at
a time, so memory does not grow with the cohort and two exports of the same data on the same
day are identical byte for byte (manifest.csv gives the day as the data cut-off). The derived
ALSFRS-R columns (total, subscores, stages) are added at the end of alsfrs_r.csv for analysts;
the importer recomputes them and ignores these.

Only patients the format can describe are exported: RIF's patients.csv requires a diagnosis
and an enrolment (route and enrolment date). Registered patients without them are counted
and named in the outcome, and their records are left out, so the export always imports back.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from django.db.models import Manager, Model, QuerySet
from django.utils import timezone

from access_programme.models import Dispensing, TreatmentCycle
from interchange import rif
from interchange.manifest import manifest_rows
from registry import safe_csv
from registry.models import (
    SERIOUSNESS_CRITERIA,
    SERIOUSNESS_CRITERION_FIELDS,
    AdverseEvent,
    AlsfrsrAssessment,
    BiomarkerResult,
    ClinicalEvent,
    Patient,
)
from registry.selectors import patients_withdrawn_from_data_use

ITERATOR_CHUNK = 5000
Formatter = Callable[[Any], str]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


_date = rif.format_date
_number = rif.format_number
_yes_no = rif.format_yes_no


@dataclass
class ExportOutcome:
    #: The day the export ran, written in manifest.csv: the data are complete to it.
    data_cutoff: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    patients_left_out: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def exportable_patients() -> QuerySet[Patient]:
    """Patients a new export carries: registered and enrolled, less those who withdrew the use of their data."""
    return Patient.objects.filter(diagnosis__isnull=False, enrolment__isnull=False).exclude(
        pk__in=patients_withdrawn_from_data_use()
    )


M = TypeVar("M", bound=Model)


def _of_exportable(records: Manager[M] | QuerySet[M]) -> QuerySet[M]:
    """The records of `exportable_patients`: none of a patient who withdrew the use of their data."""
    return records.filter(patient__diagnosis__isnull=False, patient__enrolment__isnull=False).exclude(
        patient_id__in=patients_withdrawn_from_data_use()
    )


def _patients() -> Iterator[list[str]]:
    rows = (
        exportable_patients()
        .order_by("study_id")
        .values_list(
            "study_id",
            "site__code",
            "enrolment__route__code",
            "sex",
            "year_of_birth",
            "diagnosis__symptom_onset_date",
            "diagnosis__diagnosis_date",
            "diagnosis__onset_region",
            "diagnosis__el_escorial",
            "diagnosis__riluzole_start_date",
            "enrolment__enrolment_date",
            "enrolment__first_dose_date",
            "diagnosis__svc_percent",
            "diagnosis__fvc_percent",
            "diagnosis__c9orf72",
            "diagnosis__ftd",
            "diagnosis__weight_kg",
            "diagnosis__alsfrsr_total_at_diagnosis",
        )
    )
    formats: list[Formatter] = [
        _text,
        _text,
        _text,
        _text,
        _text,
        _date,
        _date,
        _text,
        _text,
        _date,
        _date,
        _date,
        _number,
        _number,
        _text,
        _text,
        _number,
        _number,
    ]
    return _formatted(rows, formats)


def _alsfrs_r() -> Iterator[list[str]]:
    derived = ("total", "bulbar", "fine_motor", "gross_motor", "respiratory", "kings_stage", "mitos_stage")
    rows = (
        _of_exportable(AlsfrsrAssessment.objects)
        .order_by("patient__study_id", "assessment_date")
        .values_list("patient__study_id", "assessment_date", *rif.ITEM_COLUMNS, *derived)
    )
    formats: list[Formatter] = [_text, _date, *[_text] * (len(rif.ITEM_COLUMNS) + len(derived))]
    return _formatted(rows, formats)


def _biomarkers() -> Iterator[list[str]]:
    rows = (
        _of_exportable(BiomarkerResult.objects)
        .order_by("patient__study_id", "sample_date", "analyte")
        .values_list(
            "patient__study_id", "sample_date", "analyte", "value", "unit", "reported_value", "reported_unit", "assay"
        )
    )
    for study_id, sample_date, analyte, value, unit, reported_value, reported_unit, assay in rows.iterator(
        chunk_size=ITERATOR_CHUNK
    ):
        # As reported by the laboratory (the registry keeps both): importing it converts again.
        if reported_value is not None and reported_unit:
            value, unit = reported_value, reported_unit
        yield [study_id, _date(sample_date), analyte, _number(value), unit, assay]


def _events() -> Iterator[list[str]]:
    rows = (
        _of_exportable(ClinicalEvent.objects)
        .order_by("patient__study_id", "event_date", "event_type")
        .values_list("patient__study_id", "event_date", "event_type", "detail")
    )
    return _formatted(rows, [_text, _date, _text, _text])


def _cycles() -> Iterator[list[str]]:
    rows = (
        _of_exportable(TreatmentCycle.objects)
        .order_by("patient__study_id", "cycle_number")
        .values_list("patient__study_id", "cycle_number", *TreatmentCycle.DOSING_FIELDS)
    )
    return _formatted(rows, [_text, _text, _date, _number, _text, _number, _yes_no, _text])


def _dispensing() -> Iterator[list[str]]:
    rows = (
        _of_exportable(Dispensing.objects)
        .order_by("patient__study_id", "dispensed_on", "batch__product__code", "batch__batch_number")
        .values_list(
            "patient__study_id",
            "cycle__cycle_number",
            "dispensed_on",
            "batch__product__code",
            "batch__batch_number",
            "batch__expiry_date",
            "quantity",
            "quantity_unit",
            "dose_miu_per_unit",
            "batch__supplier",
            "prescriber",
            "dispensed_by",
        )
    )
    return _formatted(rows, [_text, _text, _date, _text, _text, _date, _text, _text, _number, _text, _text, _text])


def _adverse_events() -> Iterator[list[str]]:
    rows = (
        _of_exportable(AdverseEvent.objects)
        .order_by("patient__study_id", "onset_date", "term")
        .values_list("patient__study_id", *AdverseEvent.KEY_FIELDS, *AdverseEvent.FOLLOW_UP_FIELDS)
    )
    count = len(SERIOUSNESS_CRITERION_FIELDS)
    for row in rows.iterator(chunk_size=ITERATOR_CHUNK):
        study_id, term, onset, resolution, grade, serious = row[:6]
        ticked = ";".join(name for name, on in zip(SERIOUSNESS_CRITERIA, row[6 : 6 + count], strict=True) if on)
        relatedness, action, outcome, meddra = row[6 + count :]
        yield [
            study_id,
            term,
            _date(onset),
            _date(resolution),
            str(grade),
            _yes_no(serious),
            ticked,
            relatedness,
            action,
            outcome,
            meddra,
        ]


def _formatted(rows: QuerySet, formats: list[Formatter]) -> Iterator[list[str]]:
    for row in rows.iterator(chunk_size=ITERATOR_CHUNK):
        yield [fmt(value) for fmt, value in zip(formats, row, strict=True)]


WRITERS: dict[str, Callable[[], Iterable[list[str]]]] = {
    rif.PATIENTS.name: _patients,
    rif.ALSFRS_R.name: _alsfrs_r,
    rif.BIOMARKERS.name: _biomarkers,
    rif.EVENTS.name: _events,
    rif.CYCLES.name: _cycles,
    rif.DISPENSING.name: _dispensing,
    rif.ADVERSE_EVENTS.name: _adverse_events,
}


@contextmanager
def _open_target(path: Path) -> Iterator[Callable[[str], Any]]:
    """Yields `open_member(name)` giving a text stream into the folder or the zip."""
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            @contextmanager
            def member(name: str) -> Iterator[IO[str]]:
                with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
                    yield text

            yield member
    else:
        path.mkdir(parents=True, exist_ok=True)

        def member(name: str) -> IO[str]:  # type: ignore[misc]
            return open(path / name, "w", encoding="utf-8", newline="")  # the caller closes it

        yield member


def export_cohort(path: str | Path, *, progress: Callable[[str, int], None] | None = None) -> ExportOutcome:
    """Write the whole registry (pseudonymous: study ids and year of birth only) to `path`,
    with its manifest: this registry's version of the format and today as the data cut-off."""
    target = Path(path)
    outcome = ExportOutcome(
        data_cutoff=timezone.localdate(),
        patients_left_out=list(
            Patient.objects.exclude(pk__in=exportable_patients().values("pk"))
            .order_by("study_id")
            .values_list("study_id", flat=True)
        ),
    )
    with _open_target(target) as open_member:
        with open_member(rif.MANIFEST_NAME) as stream:
            safe_csv.writer(stream, lineterminator="\n").writerows(manifest_rows(outcome.data_cutoff))
        for spec in (
            rif.PATIENTS,
            rif.ALSFRS_R,
            rif.BIOMARKERS,
            rif.EVENTS,
            rif.CYCLES,
            rif.DISPENSING,
            rif.ADVERSE_EVENTS,
        ):
            with open_member(spec.name) as stream:
                writer = safe_csv.writer(stream, text_columns=spec.export_text_columns, lineterminator="\n")
                writer.writerow(spec.export_columns)
                count = 0
                for row in WRITERS[spec.name]():
                    writer.writerow(row)
                    count += 1
                    if progress is not None and count % 10_000 == 0:
                        progress(spec.name, count)
                outcome.rows[spec.name] = count
                if progress is not None:
                    progress(spec.name, count)
    return outcome
