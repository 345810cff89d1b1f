"""The clinical and protocol constants, defined once (no Django: the statistics import them too).

MIROCALS (Bensimon et al., Lancet 2025; NCT03039673): IL-2LD 2 MIU subcutaneously once daily
on days 1-5 of every 28-day cycle; primary endpoint survival at 640 days; CSF pNFH strata low
750-3700 pg/mL (about 70 % of patients, HR 0.52) and high > 3700 pg/mL (HR 1.37). Values below
750 pg/mL were not reported as a stratum: they are shown as such, never guessed into one.
"""

from __future__ import annotations

from dataclasses import dataclass
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


# --- pharmacovigilance: reporting clocks per route (sources in docs/safety.md) ---------------


@dataclass(frozen=True)
class ReportingClock:
    """Who receives a serious adverse event from the registry on one route, and by when.

    `initial_hours` None means "as soon as possible" (no fixed limit). `company_is_sponsor`
    marks a route where the company's own expedited (SUSAR) clocks are tracked as well.
    """

    recipient: str
    recipient_label: str
    initial_hours: int | None
    company_is_sponsor: bool
    product: str
    unlicensed: bool
    reference_safety_information: str
    source: str


#: The recipient codes a sent report names (`SafetyReport.recipient`).
RECIPIENT_COMPANY = "company"
RECIPIENT_YELLOW_CARD = "yellow_card"
RECIPIENT_NONE = ""

REPORTING_CLOCKS: dict[str, ReportingClock] = {
    "managed_access": ReportingClock(
        recipient=RECIPIENT_COMPANY,
        recipient_label="ILTOO Pharma (managed access programme)",
        initial_hours=24,
        company_is_sponsor=True,
        product="ILT-101 (aldesleukin, ILTOO Pharma)",
        unlicensed=True,
        reference_safety_information="ILT-101 reference safety information supplied under the programme agreement",
        source="MAP programme agreement (default 24 h from awareness; set the agreed limit here)",
    ),
    "nhs_specials": ReportingClock(
        recipient=RECIPIENT_YELLOW_CARD,
        recipient_label="MHRA Yellow Card",
        initial_hours=None,
        company_is_sponsor=False,
        product="Proleukin (aldesleukin) prepared as an unlicensed low-dose special",
        unlicensed=True,
        reference_safety_information="Proleukin UK SmPC (Clinigen), section 4.8 Undesirable effects",
        source="MHRA Yellow Card scheme; Human Medicines Regulations 2012 reg. 170; MHRA Guidance Note 14",
    ),
}
#: Patients on no treatment route (registry-only comparators, or not enrolled): the SAE is
#: tracked, but no product report is due.
NO_PRODUCT_CLOCK = ReportingClock(
    recipient=RECIPIENT_NONE,
    recipient_label="No product report (untreated)",
    initial_hours=None,
    company_is_sponsor=False,
    product="",
    unlicensed=False,
    reference_safety_information="",
    source="No IL-2LD given: not a suspected reaction to the product",
)

#: Sponsor clocks for suspected unexpected serious adverse reactions (ICH E2A; Regulation (EU)
#: 536/2014 art. 42; UK SI 2004/1031 reg. 33): fatal or life-threatening within 7 days, with
#: follow-up information within 8 more; all others within 15 days. Days from awareness.
SUSAR_FATAL_DAYS = 7
SUSAR_FATAL_FOLLOW_UP_DAYS = 8
SUSAR_OTHER_DAYS = 15


def reporting_clock(route_code: str | None) -> ReportingClock:
    """The clock of a route code (the untreated clock for none or an unknown code)."""
    return REPORTING_CLOCKS.get(route_code or "", NO_PRODUCT_CLOCK)
