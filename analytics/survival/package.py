"""A run's analysis package: a zip that lets a reviewer check the main estimates without the registry.

Contents (README.txt lists them with their SHA-256): the pseudonymised analysis dataset (days
from first dose, no dates, no study ids) and its data dictionary; the run's parameters and the
primary benchmark's cumulative-hazard curve; the results as JSON; every figure as SVG and PNG;
the PDF report; and reproduce.R, which recomputes the primary estimate with R's survival package.
The zip is deterministic: fixed member order and timestamps.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.exports import frame_csv_text
from analytics.survival.figures import ResultFigure

R_SCRIPT = Path(__file__).with_name("reproduce.R")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DICTIONARY = (
    ("row", "integer", "Row number in study-id order (the package carries no study id)"),
    ("in_all_treated", "0/1", "In the all-treated analysis set: dosed by the cut-off, followed after the first dose"),
    ("in_primary", "0/1", "In the primary analysis set: also MIROCALS-eligible at the first dose"),
    ("route", "text", "Access route: managed_access (ILT-101) or nhs_specials (Proleukin)"),
    ("sex", "text", "male or female; empty when unknown"),
    ("bulbar", "0/1", "Bulbar onset (1) or spinal or other onset (0); empty when unknown"),
    ("age_at_enrolment", "years", "Age at enrolment, whole years"),
    ("pnfh_pre_dose", "pg/mL", "CSF pNFH nearest the first dose among samples 0-90 days before it"),
    ("pnfh_stratum_t0", "text", "below_750, low (750-3700), high (above 3700) or missing"),
    ("eligible_t0", "0/1", "Meets the MIROCALS criteria at the first dose"),
    ("os_days", "days", "First dose to death or last known alive, censored at the data cut-off"),
    ("os_event", "0/1", "Died (1) or censored (0) at os_days"),
    ("os_days_h", "days", "os_days censored at 640 days (the trial horizon)"),
    ("os_event_h", "0/1", "os_event with deaths after 640 days censored"),
    ("comp_days", "days", "First dose to death, tracheostomy or permanent ventilation, or censoring"),
    ("comp_event", "0/1", "Composite event (1) or censored (0) at comp_days"),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dataset_bytes(dataset: pd.DataFrame) -> bytes:
    """The analysis dataset exactly as the package holds it (its SHA-256 is the report's dataset hash)."""
    return frame_csv_text(dataset).encode("utf-8")


def _csv(rows: list[list[Any]]) -> bytes:
    return frame_csv_text(pd.DataFrame(rows[1:], columns=rows[0])).encode("utf-8")


def _parameters(run_parameters: dict[str, Any], primary: dict[str, Any]) -> bytes:
    rows: list[list[Any]] = [["name", "value"]]
    rows += [
        ["stop_days", primary.get("stop_days")],
        ["alpha", run_parameters.get("alpha", 0.05)],
        ["sap_version", run_parameters.get("sap_version")],
        ["data_cutoff", run_parameters.get("data_cutoff")],
        ["benchmark", (primary.get("benchmark") or {}).get("code")],
    ]
    return _csv(rows)


def build_package(
    *,
    provenance: dict[str, Any],
    results: dict[str, Any],
    figures: list[ResultFigure],
    dataset: bytes,
    pdf: bytes,
) -> bytes:
    """The zip, with its README listing every member's SHA-256."""
    primary = (results.get("emulation") or {}).get("primary_analysis") or {}
    curve = [["day", "cumulative_hazard"], *((primary.get("benchmark") or {}).get("cumulative_hazard") or [])]
    members: dict[str, bytes] = {
        "analysis_dataset.csv": dataset,
        "data_dictionary.csv": _csv([["column", "unit_or_type", "description"], *map(list, DICTIONARY)]),
        "parameters.csv": _parameters(provenance.get("parameters") or {}, primary),
        "benchmark_curve.csv": _csv(curve),
        "results.json": json.dumps({"provenance": provenance, "results": results}, indent=2, default=str).encode(),
        "reproduce.R": R_SCRIPT.read_bytes(),
        "report.pdf": pdf,
    }
    for figure in figures:
        members[f"figures/{figure.name}.svg"] = str(figure.svg).encode("utf-8")
        members[f"figures/{figure.name}.png"] = figure.png
    readme = [
        f"Analysis package of survival run {provenance.get('run')} of the IL-2LD ALS/MND registry.",
        f"Code version: {provenance.get('code_version')}",
        f"SAP version: {(provenance.get('parameters') or {}).get('sap_version')}; "
        f"data cut-off: {(provenance.get('parameters') or {}).get('data_cutoff')}",
        "The dataset is pseudonymised: days from first dose, no dates, no study ids, no identifiers.",
        "Rscript reproduce.R recomputes the primary estimate (needs R and its survival package).",
        "",
        "SHA-256 of each file:",
        *(f"{sha256(data)}  {name}" for name, data in members.items()),
    ]
    members = {"README.txt": ("\n".join(readme) + "\n").encode("utf-8"), **members}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(f"survival-run-{provenance.get('run')}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
