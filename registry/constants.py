"""The clinical and protocol constants, defined once (no Django: the statistics import them too).

MIROCALS (Bensimon et al., Lancet 2025; NCT03039673): IL-2LD 2 MIU subcutaneously once daily
on days 1-5 of every 28-day cycle; primary endpoint survival at 640 days; CSF pNFH strata low
750-3700 pg/mL (about 70 % of patients, HR 0.52) and high > 3700 pg/mL (HR 1.37). Values below
750 pg/mL were not reported as a stratum: they are shown as such, never guessed into one.
"""

from __future__ import annotations

from decimal import Decimal

#: Length of a treatment cycle, first dosing day to the next cycle's first dosing day.
CYCLE_LENGTH_DAYS = 28
#: Dosing days at the start of each cycle.
DOSING_DAYS_PER_CYCLE = 5
#: The protocol's daily dose (MIU) and so its dose per cycle.
PROTOCOL_DAILY_DOSE_MIU = Decimal("2.0")
PROTOCOL_MIU_PER_CYCLE = float(PROTOCOL_DAILY_DOSE_MIU) * DOSING_DAYS_PER_CYCLE

#: MIROCALS' primary endpoint: survival at 640 days (21 months) from randomisation.
TRIAL_FOLLOW_UP_DAYS = 640

#: Average days in a month (365.25 / 12), used for ΔFS and disease durations everywhere.
DAYS_PER_MONTH = 365.25 / 12
#: ALSFRS-R is repeated about every three months (13 weeks) in MND clinics and in MIROCALS.
ALSFRSR_INTERVAL_DAYS = 91

#: CSF pNFH strata (pg/mL): low is 750-3700 inclusive, high is above 3700.
PNFH_LOW_FROM = 750
PNFH_HIGH_ABOVE = 3700
#: Stratum codes, as exports and analyses write them, with their labels for people.
PNFH_BELOW_LOW = "below_750"
PNFH_LOW = "low"
PNFH_HIGH = "high"
PNFH_MISSING = "missing"
PNFH_STRATA: dict[str, str] = {
    PNFH_BELOW_LOW: "Below 750 pg/mL (outside the MIROCALS strata)",
    PNFH_LOW: "Low (750–3700 pg/mL)",
    PNFH_HIGH: "High (> 3700 pg/mL)",
}
PNFH_STRATUM_LABELS: dict[str, str] = {**PNFH_STRATA, PNFH_MISSING: "Not measured"}


def pnfh_stratum(value: Decimal | float | None) -> str | None:
    """MIROCALS stratum of a CSF pNFH value in pg/mL: below_750, low or high (None if unknown)."""
    if value is None:
        return None
    if value < PNFH_LOW_FROM:
        return PNFH_BELOW_LOW
    if value <= PNFH_HIGH_ABOVE:
        return PNFH_LOW
    return PNFH_HIGH
