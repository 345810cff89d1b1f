"""How patients reach IL-2LD: route, enrolment, product batches, cycles and dispensing.

One module per aggregate; import them from `access_programme.models`. Dispensing records meet
the unlicensed-specials record-keeping rules (Human Medicines Regulations 2012 reg. 170; MHRA
Guidance Note 14): source and date obtained, person supplied and date, quantity, batch number,
and linked suspected adverse reactions.
"""

from access_programme.models.batches import Batch, BatchStatus, batch_unusable_reason, units_display
from access_programme.models.cycles import (
    MISSED_DOSES_RULE,
    CycleStart,
    TreatmentCycle,
    cycle_errors,
    cycle_findings,
    dispense_ahead_days,
    next_cycle_due,
)
from access_programme.models.dispensing import Dispensing, dispensing_errors, supply_errors
from access_programme.models.enrolment import Enrolment
from access_programme.models.prescriptions import PROTOCOL_DIRECTIONS, Prescription, SitePharmacy
from access_programme.models.products import Product, ProductCode, QuantityUnit, Route, RouteCode
from access_programme.models.recalls import RecallNotice
from access_programme.models.stock import (
    Disposition,
    MovementKind,
    ReconciliationExplanation,
    ReturnCondition,
    SiteStock,
    StockDiscrepancy,
    StockMovement,
    TemperatureExcursion,
    unaccounted,
)
from access_programme.models.supply_rules import (
    NO_PRESCRIPTION_RULE,
    prescription_errors,
    prescription_finding,
    prescription_lack,
    window_errors,
)

__all__ = [
    "MISSED_DOSES_RULE",
    "NO_PRESCRIPTION_RULE",
    "PROTOCOL_DIRECTIONS",
    "Batch",
    "BatchStatus",
    "CycleStart",
    "Dispensing",
    "Disposition",
    "Enrolment",
    "MovementKind",
    "Prescription",
    "Product",
    "ProductCode",
    "QuantityUnit",
    "RecallNotice",
    "ReconciliationExplanation",
    "ReturnCondition",
    "Route",
    "RouteCode",
    "SitePharmacy",
    "SiteStock",
    "StockDiscrepancy",
    "StockMovement",
    "TemperatureExcursion",
    "TreatmentCycle",
    "batch_unusable_reason",
    "cycle_errors",
    "cycle_findings",
    "dispense_ahead_days",
    "dispensing_errors",
    "next_cycle_due",
    "prescription_errors",
    "prescription_finding",
    "prescription_lack",
    "supply_errors",
    "unaccounted",
    "units_display",
    "window_errors",
]
