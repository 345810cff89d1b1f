"""A run's regulator report (PDF, WeasyPrint) and its archive, written when the run finishes.

The report holds the title and SAP version, the data cut-off, the patient flow diagram, Table 1,
the results with their figures, the sensitivity analyses, the caveats and methods with
citations, the code version and the SHA-256 of the analysis dataset (the file in the analysis
package, `analytics.survival.package`). Both are built from the data the run analysed, in the
worker, before the run is marked succeeded, and archived with it (`RunReport`, never changed).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.template.loader import render_to_string

from analytics.labels import labels_for
from analytics.survival import formatting
from analytics.survival.figures import ResultFigure, result_figures
from analytics.survival.package import build_package, dataset_bytes, sha256
from registry.pdf import html_pdf

ROUTE_LABELS = {"managed_access": "Managed access (ILT-101)", "nhs_specials": "NHS Specials (Proleukin)"}
COUNT_LABELS = {"pnfh_stratum_t0": "pnfh_stratum", "el_escorial": "el_escorial", "c9orf72": "c9orf72", "ftd": "ftd"}


@dataclass(frozen=True)
class Archive:
    pdf: bytes
    package: bytes
    dataset_sha256: str
    code_version: str


def _cell(column: str, cell: dict[str, Any] | dict[str, int]) -> str:
    if "median" in cell:
        if cell["median"] is None:
            return "–"
        text = f"{cell['median']:.1f} ({cell['q1']:.1f}–{cell['q3']:.1f})"
        return text + (f"; {cell['missing']} missing" if cell["missing"] else "")
    if "percent" in cell:
        if not cell["of"]:
            return "–"
        text = f"{cell['n']} of {cell['of']} ({cell['percent']:.0f}%)"
        return text + (f"; {cell['missing']} missing" if cell["missing"] else "")
    labels = labels_for(COUNT_LABELS.get(column, column))
    return "; ".join(f"{labels.get(key, 'Missing' if key == 'missing' else key)} {n}" for key, n in cell.items())


def table_one_rows(table: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Table 1 of one analysis set as header and rows of text, groups labelled."""
    groups = list(table["groups"])
    header = ["Characteristic", *[f"{ROUTE_LABELS.get(g, 'All patients')} (n={table['groups'][g]})" for g in groups]]
    rows = [[row["characteristic"], *[_cell(row["column"], row["groups"][g]) for g in groups]] for row in table["rows"]]
    return header, rows


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def sensitivity_rows(results: dict[str, Any]) -> list[dict[str, str]]:
    """The SAP's sensitivity analyses that the run computed, one line each."""
    emulation = results.get("emulation") or {}
    rows = []
    for row in emulation.get("benchmarks", []):
        result = row.get("result") or {}
        smr = result.get("one_sample") or {}
        if "smr" not in smr:
            continue
        text = f"SMR {smr['smr']:.2f} ({formatting.ci(smr['smr_ci_lower'], smr['smr_ci_upper'])}; "
        text += f"{formatting.pvalue(smr['p'])}), {smr['observed']} observed, {smr['expected']:.1f} expected"
        if result.get("smr_band"):
            low, high = result["smr_band"]
            text += f"; over Weibull shapes 0.8-2.0 the SMR ranges {low:.2f} to {high:.2f}"
        evalue = result.get("smr_e_value") or {}
        if evalue.get("e_value"):
            text += f"; E-value {evalue['e_value']:.2f}"
        rows.append({"analysis": f"{row['label']}: {formatting.group_label(row['analysis_set'])}", "result": text})
    routes = emulation.get("routes") or {}
    for name, fit in ((routes.get("weighted") or {}).get("cox") or {}).items():
        rows.append(
            {
                "analysis": f"NHS Specials against managed access, IPTW Cox, {name.replace('_', ' ')}",
                "result": f"HR {fit['hr']:.2f} ({formatting.ci(fit['hr_ci_lower'], fit['hr_ci_upper'])})",
            }
        )
    for key, title in (("adjusted_complete_case", "complete case"), ("adjusted_imputed", "multiple imputation")):
        fit = routes.get(key) or {}
        term = fit if "hr" in fit else next((t for t in fit.get("terms", []) if t.get("variable") == "index_route"), {})
        if "hr" in term:
            rows.append(
                {
                    "analysis": f"NHS Specials against managed access, adjusted Cox, {title}",
                    "result": f"HR {term['hr']:.2f} ({formatting.ci(term['hr_ci_lower'], term['hr_ci_upper'])})",
                }
            )
    return rows


def render_pdf(context: dict[str, Any]) -> bytes:
    return html_pdf(render_to_string("survival/report_pdf.html", context))


def build_archive(
    *, provenance: dict[str, Any], results: dict[str, Any], figures: dict[str, str], dataset: pd.DataFrame | None
) -> Archive:
    """The PDF report and the analysis package of a run about to be marked succeeded."""
    data = dataset_bytes(dataset if dataset is not None else pd.DataFrame())
    drawn: list[ResultFigure] = result_figures(results, figures)
    emulation = results.get("emulation") or {}
    table_one = (emulation.get("table_one") or {}).get("primary")
    context = {
        "provenance": provenance,
        "results": results,
        "emulation": emulation,
        "summary": formatting.primary_summary(results),
        "primary": emulation.get("primary_analysis") or {},
        "figures": [(figure, _data_uri(figure.png)) for figure in drawn],
        "table_one": table_one_rows(table_one) if table_one else None,
        "sensitivity": sensitivity_rows(results),
        "dataset_sha256": sha256(data),
        "parameters": formatting.parameter_rows(provenance.get("parameters") or {}),
    }
    pdf = render_pdf(context)
    package = build_package(provenance=provenance, results=results, figures=drawn, dataset=data, pdf=pdf)
    return Archive(pdf=pdf, package=package, dataset_sha256=sha256(data), code_version=provenance["code_version"])
