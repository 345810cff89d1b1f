"""Numbers as readers of a journal expect them, and the one-sentence answer of a run.

p-values follow the common journal style (NEJM, Lancet, JAMA): below 0.001 as "< 0.001", below
0.01 to three decimals, otherwise to two (three when two would read 0.05), never "0.000".
Intervals are written "0.26 to 0.88" so that a minus sign is never mistaken for a dash.
"""

from __future__ import annotations

import math
from typing import Any

PROVENANCE_LABELS = {
    "confirmed": "confirmed in the primary publication",
    "secondary": "secondary source quoting the publication",
    "unconfirmed": "unconfirmed",
    "reconstructed": "reconstructed from the published figure",
}


def _missing(value: Any) -> bool:
    """None, NaN, or what a template passes for a missing key ('')."""
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def pvalue(p: Any) -> str:
    """'p < 0.001', 'p = 0.004', 'p = 0.12', 'p > 0.99'; an en dash when there is none."""
    if _missing(p):
        return "–"
    p = float(p)
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    if p > 0.99:
        return "p > 0.99"
    text = f"{p:.2f}"
    return f"p = {p:.3f}" if text == "0.05" else f"p = {text}"


def number(value: Any, digits: int = 2) -> str:
    return "–" if _missing(value) else f"{float(value):.{digits}f}"


def percent(value: Any, digits: int = 0) -> str:
    return "–" if _missing(value) else f"{100 * float(value):.{digits}f}%"


def ci(lower: Any, upper: Any, digits: int = 2, pct: bool = False) -> str:
    """'95% CI 0.26 to 0.88'."""
    show = percent if pct else number
    return f"95% CI {show(lower, 0 if pct else digits)} to {show(upper, 0 if pct else digits)}"


def provenance_label(code: str) -> str:
    return PROVENANCE_LABELS.get(code, "unconfirmed")


def primary_summary(results: dict[str, Any]) -> dict[str, str] | None:
    """The emulated trial's primary estimate in one sentence, with its plain-language caveat."""
    primary = (results.get("emulation") or {}).get("primary_analysis") or {}
    estimate = primary.get("estimate") or {}
    if "smr" not in estimate:
        return None
    benchmark = primary["benchmark"]
    fewer = "fewer" if estimate["smr"] < 1 else "more"
    span = f"{primary['stop_days']:g} days"
    sentence = (
        f"Of {estimate['n']} patients who met the MIROCALS eligibility criteria at their first dose, "
        f"{estimate['observed']} died within {span}, where the MIROCALS placebo arm predicts "
        f"{estimate['expected']:.1f}: {fewer} deaths than expected, a standardised mortality ratio of "
        f"{estimate['smr']:.2f} ({ci(estimate['smr_ci_lower'], estimate['smr_ci_upper'])}; {pvalue(estimate['p'])})."
    )
    caveat = (
        "These patients were not randomised: they chose or were offered treatment, and they are compared with "
        "another study's placebo group, so differences in who was treated, and how they were cared for, may explain "
        "some or all of this difference. It is not evidence that the treatment works."
    )
    if benchmark.get("approximate"):
        caveat += (
            " The placebo arm is known here only as the share alive at the end of the trial, so its curve's shape "
            "is assumed."
        )
    return {
        "sentence": sentence,
        "caveat": caveat,
        "benchmark": (
            f"{benchmark['label']} ({provenance_label(benchmark['provenance'])}). Source: {benchmark['source']}"
        ),
    }


GROUP_LABELS = {
    "all": "All patients",
    "managed_access": "Managed access (ILT-101)",
    "nhs_specials": "NHS Specials (Proleukin)",
    "none": "Untreated comparator",
    "below_750": "CSF pNFH below 750 pg/mL",
    "low": "CSF pNFH 750-3700 pg/mL",
    "high": "CSF pNFH above 3700 pg/mL",
    "missing": "No CSF pNFH",
    "primary": "Eligible at first dose (primary set)",
    "all_treated": "All treated patients",
}


def group_label(name: Any) -> str:
    """A stored group key ('route:nhs_specials', 'stratum:low', 'all') as words."""
    key = str(name).split(":", 1)[-1]
    return GROUP_LABELS.get(key, key.replace("_", " ").capitalize())


def parameter_rows(parameters: dict[str, Any]) -> list[tuple[str, str]]:
    """A run's parameters as (readable name, value) pairs."""
    names = {
        "times": "Survival read at (days)",
        "alpha": "Significance level",
        "min_group_size": "Smallest group reported",
        "data_cutoff": "Data cut-off",
        "horizon_days": "Trial horizon (days)",
        "imputations": "Multiple imputations",
        "seed": "Random seed",
        "sap_version": "SAP version",
        "trial_ventilation_definition": "Permanent ventilation (trial)",
        "encals_ventilation_definition": "Permanent ventilation (ENCALS)",
    }
    return [
        (
            names.get(key, key.replace("_", " ").capitalize()),
            ", ".join(map(str, value)) if isinstance(value, list) else str(value),
        )
        for key, value in parameters.items()
    ]
