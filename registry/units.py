"""Biomarker unit normalisation: each analyte is stored in one canonical unit."""

from __future__ import annotations

from decimal import Decimal

CANONICAL_UNIT: dict[str, str] = {
    "csf_pnfh": "pg/mL",
    "serum_nfl": "pg/mL",
    "plasma_nfl": "pg/mL",
    "plasma_ccl2": "pg/mL",
    "csf_ccl2": "pg/mL",
    "treg_percent_cd4": "%",
}

# Factor to multiply a reported value by to get the canonical unit (interchange format v1).
_MASS_CONCENTRATION = {"pg/mL": Decimal(1), "ng/L": Decimal(1), "ng/mL": Decimal(1000)}
_CONVERSIONS: dict[str, dict[str, Decimal]] = {
    analyte: (_MASS_CONCENTRATION if unit == "pg/mL" else {"%": Decimal(1)}) for analyte, unit in CANONICAL_UNIT.items()
}


def accepted_units(analyte: str) -> list[str]:
    return list(_CONVERSIONS.get(analyte, {}))


def normalise(analyte: str, value: Decimal, unit: str) -> tuple[Decimal, str]:
    """Convert to the canonical unit, or raise ValueError naming the accepted units."""
    if analyte not in _CONVERSIONS:
        raise ValueError(f"Unknown analyte '{analyte}'.")
    factors = _CONVERSIONS[analyte]
    if unit not in factors:
        raise ValueError(f"Unit '{unit}' is not accepted for {analyte}; use one of: {', '.join(factors)}.")
    return value * factors[unit], CANONICAL_UNIT[analyte]
