"""E-values: how strong unmeasured confounding would have to be to explain an estimate away.

VanderWeele & Ding, Ann Intern Med 2017;167:268-74. For a risk ratio RR ≥ 1 the E-value is
RR + √(RR·(RR − 1)); for RR < 1 take 1/RR first. It is the minimum strength of association, on
the risk-ratio scale, that an unmeasured confounder would need with both treatment and outcome
to move the estimate to 1. The E-value of the CI uses the limit closest to 1, and is 1 when the
CI includes 1.

Hazard ratios (and SMRs, ratios of observed to expected cumulative hazard) are converted to the
risk-ratio scale first. With a common outcome (more than about 15 % by the end of follow-up, as
death in ALS over 640 days is) the paper's approximation is
RR ≈ (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)); with a rare outcome RR ≈ HR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from analytics.stats import caveats as cv
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin

Measure = Literal["hr", "smr", "rr"]
COMMON_OUTCOME_THRESHOLD = 0.15
"""Cumulative incidence above which an outcome counts as common (VanderWeele & Ding 2017)."""


@dataclass(frozen=True, eq=False)
class EValueResult(ResultMixin):
    """E-values of an estimate and of its CI limit closest to 1."""

    measure: str
    estimate: float
    ci_lower: float
    ci_upper: float
    rr: float
    rr_ci_lower: float
    rr_ci_upper: float
    common_outcome: bool
    e_value: float
    e_value_ci: float
    n: int
    events: int
    caveats: tuple[Caveat, ...] = ()


def hr_to_rr(hr: float, common_outcome: bool = True) -> float:
    """The risk ratio a hazard ratio corresponds to (VanderWeele & Ding's approximation)."""
    if hr < 0:
        raise ValueError("a hazard ratio must be >= 0")
    if hr == 0 or not common_outcome:
        return hr
    rr: float = (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
    return rr


def e_value_rr(rr: float) -> float:
    """E-value of a risk ratio: RR + √(RR(RR − 1)) after taking 1/RR when RR < 1."""
    if rr < 0:
        raise ValueError("a risk ratio must be >= 0")
    if rr == 0:
        return math.inf  # no events at all: no finite confounder explains it away
    r = rr if rr >= 1 else 1 / rr
    return r + math.sqrt(r * (r - 1))


def e_value(
    estimate: float,
    ci_lower: float,
    ci_upper: float,
    *,
    measure: Measure = "hr",
    common_outcome: bool = True,
    n: int = 0,
    events: int = 0,
) -> EValueResult:
    """E-value of a ratio estimate and its CI (HR, SMR or risk ratio).

    ``common_outcome`` says whether the outcome exceeded 15 % by the end of follow-up; it
    selects the HR-to-RR conversion and does not apply to ``measure="rr"``.
    """
    if measure not in ("hr", "smr", "rr"):
        raise ValueError(f"unknown measure {measure!r}")
    if not (0 <= ci_lower <= estimate <= ci_upper) or not ci_upper > 0:
        raise ValueError("need 0 <= ci_lower <= estimate <= ci_upper and ci_upper > 0")
    if measure == "rr":
        rr, lo, hi = estimate, ci_lower, ci_upper
    else:
        rr, lo, hi = (hr_to_rr(v, common_outcome) for v in (estimate, ci_lower, ci_upper))
    e_ci = 1.0 if lo <= 1 <= hi else e_value_rr(lo if rr > 1 else hi)
    return EValueResult(
        measure=measure,
        estimate=float(estimate),
        ci_lower=float(ci_lower),
        ci_upper=float(ci_upper),
        rr=float(rr),
        rr_ci_lower=float(lo),
        rr_ci_upper=float(hi),
        common_outcome=bool(common_outcome and measure != "rr"),
        e_value=float(e_value_rr(rr)),
        e_value_ci=float(e_ci),
        n=int(n),
        events=int(events),
        caveats=cv.get_caveats(cv.E_VALUE),
    )


def is_common(cumulative_incidence: float) -> bool:
    """True when the outcome's cumulative incidence at the end of follow-up exceeds 15 %."""
    if math.isnan(cumulative_incidence):
        return True  # when unknown, the conservative (common-outcome) conversion
    return cumulative_incidence > COMMON_OUTCOME_THRESHOLD
