"""Cohorts for the import tests: the clean fixture cohort, copied and broken one row at a time."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from interchange.cohort import import_cohort
from interchange.importer import ImportOutcome
from registry.models import Site

CLEAN = Path(__file__).resolve().parent.parent / "fixtures" / "rif" / "clean"


@pytest.fixture
def sites(db) -> list[Site]:
    return [
        Site.objects.create(code="GB-LON", name="London MND Care Centre"),
        Site.objects.create(code="GB-SHF", name="Sheffield MND Care Centre"),
    ]


def read_cohort(folder: Path = CLEAN) -> dict[str, list[dict[str, str]]]:
    """Every file of a cohort as a list of row dicts, in file order."""
    files = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            files[path.name] = list(csv.DictReader(handle))
    return files


def write_cohort(folder: Path, files: dict[str, list[dict[str, str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        header = list(rows[0]) if rows else _header_of(name)
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _header_of(name: str) -> list[str]:
    with (CLEAN / name).open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


@dataclass
class Imported:
    outcome: ImportOutcome
    issues: list[dict[str, str]]

    @property
    def errors(self) -> list[dict[str, str]]:
        return [i for i in self.issues if i["severity"] == "error"]

    @property
    def warnings(self) -> list[dict[str, str]]:
        return [i for i in self.issues if i["severity"] == "warning"]

    def counts(self, file: str) -> dict[str, int]:
        return self.outcome.report.files[file].as_dict()

    def error_on(self, file: str, line: int) -> dict[str, str]:
        found = [i for i in self.errors if i["file"] == file and i["line"] == str(line)]
        assert len(found) == 1, f"expected one error on {file}:{line}, got {found} among {self.errors}"
        return found[0]


def run_import(path: Path, **kwargs: object) -> Imported:
    stream = io.StringIO()
    outcome = import_cohort(path, report_stream=stream, **kwargs)  # type: ignore[arg-type]
    stream.seek(0)
    return Imported(outcome, list(csv.DictReader(stream)))


@pytest.fixture
def clean_files() -> dict[str, list[dict[str, str]]]:
    return read_cohort()


@pytest.fixture
def import_files(tmp_path: Path, sites: list[Site]):
    """Write the given files as a cohort folder and import it."""

    def do(files: dict[str, list[dict[str, str]]], name: str = "cohort", **kwargs: object) -> Imported:
        return run_import(write_cohort(tmp_path / name, files), **kwargs)

    return do


@pytest.fixture
def clean_folder(tmp_path: Path) -> Path:
    target = tmp_path / "clean"
    shutil.copytree(CLEAN, target)
    return target
