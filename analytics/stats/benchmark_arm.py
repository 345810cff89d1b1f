"""A registry cohort against a published trial arm: SMR, hazard ratio and RMST difference.

A benchmark arm is its published Kaplan-Meier curve, digitised as (t, S) points, with the
numbers at risk printed under the figure and the arm's total events where known. Two uses:

* the one-sample log-rank test and SMR (Finkelstein et al. 2003) use the curve itself, its
  cumulative hazard joined linearly between points (`BenchmarkCurve`, "log-linear");
* the two-sample Cox hazard ratio and the RMST difference need individual data, rebuilt by the
  Guyot et al. (2012) algorithm (`reconstruct_ipd`) from the points and the risk table (at
  least the number randomised).

All comparisons are restricted to ``tau`` (640 days, the MIROCALS primary time point): the
cohort is administratively censored there. A benchmark known only as one proportion alive at one
time gives `compare_with_proportion`: the shape of its curve is assumed (Weibull), the result is
labelled "approximate: curve shape assumed" and comes with a band over shapes 0.8-2.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.stats import caveats as cv
from analytics.stats._validation import survival_arrays
from analytics.stats.benchmark_curve import BenchmarkCurve, ReferenceCurve, WeibullCurve
from analytics.stats.caveats import Caveat
from analytics.stats.cox_model import cox
from analytics.stats.evalue import EValueResult, e_value, is_common
from analytics.stats.guyot import GuyotResult, reconstruct_ipd
from analytics.stats.results import ResultMixin
from analytics.stats.rmst import RMSTDifference, RMSTResult, rmst, rmst_difference
from analytics.stats.smr import SMRResult, one_sample_logrank

TRIAL_HORIZON_DAYS = 640.0
"""MIROCALS primary time point: survival at 640 days (21 months) from randomisation."""
WEIBULL_SHAPES = (0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
"""Shapes of the sensitivity band for a one-proportion benchmark (1 = constant hazard)."""
APPROXIMATE_LABEL = "approximate: curve shape assumed"


@dataclass(frozen=True)
class DigitisedArm:
    """One trial arm as published: digitised KM points, risk table and total events.

    ``risk_times``/``n_at_risk`` is the table under the figure (first time 0); give at least the
    number randomised, ``((0,), (n,))``, for the reconstruction. ``test_only`` marks a synthetic
    arm that exercises the code path and must never be read as a trial result.
    """

    label: str
    times: tuple[float, ...]
    survival: tuple[float, ...]
    risk_times: tuple[float, ...] = ()
    n_at_risk: tuple[int, ...] = ()
    total_events: int | None = None
    provenance: str = "unconfirmed"
    source: str = ""
    test_only: bool = False

    def __post_init__(self) -> None:
        if len(self.risk_times) != len(self.n_at_risk):
            raise ValueError("risk_times and n_at_risk must have the same length")
        self.curve()  # validates the points and the provenance

    def curve(self) -> BenchmarkCurve:
        """The digitised curve, cumulative hazard joined linearly, censored at its last point."""
        return BenchmarkCurve(
            tuple(self.times),
            tuple(self.survival),
            interpolation="log-linear",
            extrapolation="censor",
            label=self.label,
            provenance=self.provenance,
            source=self.source,
        )

    @property
    def can_reconstruct(self) -> bool:
        return bool(self.risk_times)

    def reconstruct(self) -> GuyotResult:
        """Guyot pseudo individual data for this arm."""
        if not self.can_reconstruct:
            raise ValueError(f"{self.label}: no numbers at risk, so no individual data can be reconstructed")
        return reconstruct_ipd(self.times, self.survival, self.risk_times, self.n_at_risk, self.total_events)

    def caveat_codes(self) -> tuple[str, ...]:
        codes = (cv.EXTERNAL_COMPARATOR, cv.benchmark_provenance_caveat(self.provenance))
        return (*codes, cv.BENCHMARK_TEST) if self.test_only else codes


@dataclass(frozen=True, eq=False)
class TwoSampleHR(ResultMixin):
    """Cox hazard ratio of the registry cohort vs the reconstructed arm (reference), to τ."""

    hr: float
    ci_lower: float
    ci_upper: float
    p: float
    n: int
    events: int
    n_benchmark: int
    events_benchmark: int
    e_value: EValueResult
    caveats: tuple[Caveat, ...] = ()


@dataclass(frozen=True, eq=False)
class ArmComparison(ResultMixin):
    """Everything computed against one digitised arm. ``n``/``events`` are the registry's to τ."""

    benchmark: str
    tau: float
    n: int
    events: int
    one_sample: SMRResult
    smr_e_value: EValueResult
    hazard_ratio: TwoSampleHR | None
    rmst_registry: RMSTResult
    rmst_benchmark: RMSTResult | None
    rmst_difference: RMSTDifference | None
    reconstructed_n: int | None
    reconstructed_events: int | None
    test_only: bool
    caveats: tuple[Caveat, ...] = ()


@dataclass(frozen=True, eq=False)
class ShapeRow:
    shape: float
    expected: float
    smr: float
    smr_ci_lower: float
    smr_ci_upper: float
    rmst_benchmark: float


@dataclass(frozen=True, eq=False)
class ApproximateComparison(ResultMixin):
    """A cohort against a one-proportion benchmark, at a reference shape, with a shape band."""

    benchmark: str
    label: str
    survival_at_time: float
    time: float
    reference_shape: float
    n: int
    events: int
    one_sample: SMRResult
    smr_e_value: EValueResult
    smr_band: tuple[float, float]
    smr_ci_band: tuple[float, float]
    rmst_registry: RMSTResult
    rmst_benchmark_band: tuple[float, float]
    shapes: tuple[ShapeRow, ...]
    caveats: tuple[Caveat, ...] = ()


def restrict_to(df: pd.DataFrame, duration_col: str, event_col: str, tau: float) -> pd.DataFrame:
    """Administrative censoring at τ: later times become τ and later events censored."""
    exit_, event, _ = survival_arrays(df, duration_col, event_col)
    out = df.copy()
    out[event_col] = np.where(exit_ > tau, 0, event)
    out[duration_col] = np.minimum(exit_, tau)
    return out


def _smr_e_value(smr: SMRResult, curve: ReferenceCurve) -> EValueResult:
    """E-value of an SMR; the outcome is common when the benchmark loses > 15 % by its horizon."""
    common = is_common(float(1 - curve.survival_at(curve.horizon)[0]))
    return e_value(
        smr.smr, smr.smr_ci_lower, smr.smr_ci_upper, measure="smr", common_outcome=common, n=smr.n, events=smr.events
    )


def _two_sample(registry: pd.DataFrame, ipd: pd.DataFrame, alpha: float, common: bool) -> TwoSampleHR:
    both = pd.concat(
        [
            pd.DataFrame({"time": registry["time"], "event": registry["event"], "registry": 1}),
            pd.DataFrame({"time": ipd["time"], "event": ipd["event"], "registry": 0}),
        ],
        ignore_index=True,
    )
    fit = cox(both, "time", "event", ["registry"], alpha=alpha, concordance=False)
    term = fit.term("registry")
    n_reg = len(registry)
    ev_reg = int(registry["event"].sum())
    return TwoSampleHR(
        hr=term.hr,
        ci_lower=term.hr_ci_lower,
        ci_upper=term.hr_ci_upper,
        p=term.p,
        n=n_reg,
        events=ev_reg,
        n_benchmark=len(ipd),
        events_benchmark=int(ipd["event"].sum()),
        e_value=e_value(
            term.hr, term.hr_ci_lower, term.hr_ci_upper, measure="hr", common_outcome=common, n=n_reg, events=ev_reg
        ),
        caveats=cv.get_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, cv.BENCHMARK_RECONSTRUCTED),
    )


def compare_with_arm(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    arm: DigitisedArm,
    tau: float = TRIAL_HORIZON_DAYS,
    alpha: float = 0.05,
) -> ArmComparison:
    """SMR against the digitised curve; HR and RMST difference against its reconstruction.

    The cohort's times must count from the same origin as the arm's (first dose vs
    randomisation in MIROCALS). Everything stops at τ.
    """
    cohort = restrict_to(df, duration_col, event_col, tau)
    cohort = pd.DataFrame({"time": cohort[duration_col].to_numpy(float), "event": cohort[event_col].to_numpy(int)})
    curve = arm.curve()
    codes = arm.caveat_codes()
    smr = one_sample_logrank(cohort, "time", "event", None, curve, alpha=alpha).with_caveats(*codes)
    common = is_common(float(1 - curve.survival_at(min(tau, curve.horizon))[0]))
    registry_rmst = rmst(cohort, "time", "event", tau, label="registry", alpha=alpha).with_caveats(
        cv.REAL_WORLD_NON_RANDOMISED
    )
    hazard_ratio = bench_rmst = difference = None
    rebuilt_n = rebuilt_events = None
    if arm.can_reconstruct:
        rebuilt = arm.reconstruct()
        ipd = restrict_to(rebuilt.ipd, "time", "event", tau)
        rebuilt_n, rebuilt_events = rebuilt.n, rebuilt.events
        hazard_ratio = _two_sample(cohort, ipd, alpha, common).with_caveats(*codes)
        bench_rmst = rmst(ipd, "time", "event", tau, label=arm.label, alpha=alpha).with_caveats(
            cv.BENCHMARK_RECONSTRUCTED, *codes
        )
        difference = rmst_difference(registry_rmst, bench_rmst, alpha=alpha)
    result = ArmComparison(
        benchmark=arm.label,
        tau=float(tau),
        n=len(cohort),
        events=int(cohort["event"].sum()),
        one_sample=smr,
        smr_e_value=_smr_e_value(smr, curve),
        hazard_ratio=hazard_ratio,
        rmst_registry=registry_rmst,
        rmst_benchmark=bench_rmst,
        rmst_difference=difference,
        reconstructed_n=rebuilt_n,
        reconstructed_events=rebuilt_events,
        test_only=arm.test_only,
    )
    return result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, *codes)


def compare_with_proportion(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    survival_at_time: float,
    time: float,
    label: str,
    provenance: str = "unconfirmed",
    source: str = "",
    tau: float = TRIAL_HORIZON_DAYS,
    shapes: Sequence[float] = WEIBULL_SHAPES,
    reference_shape: float = 1.0,
    alpha: float = 0.05,
) -> ApproximateComparison:
    """SMR against a benchmark known as one proportion alive at ``time``, over assumed shapes.

    The curve before ``time`` is Weibull through that point. The reported SMR uses
    ``reference_shape`` (1: constant hazard); the band gives the SMR, its CI and the benchmark
    RMST over ``shapes``. Follow-up stops at min(τ, time).
    """
    shapes = tuple(sorted({float(s) for s in (*shapes, reference_shape)}))
    stop = min(float(tau), float(time))
    cohort = restrict_to(df, duration_col, event_col, stop)
    codes = (cv.BENCHMARK_APPROXIMATE, cv.EXTERNAL_COMPARATOR, cv.benchmark_provenance_caveat(provenance))
    rows = []
    reference: SMRResult | None = None
    for k in shapes:
        curve = WeibullCurve(survival_at_time, time, k, label=label, provenance=provenance, source=source)
        smr = one_sample_logrank(cohort, duration_col, event_col, None, curve, alpha=alpha)
        rows.append(ShapeRow(k, smr.expected, smr.smr, smr.smr_ci_lower, smr.smr_ci_upper, curve.restricted_mean(stop)))
        if k == reference_shape:
            reference = smr.with_caveats(*codes)
    assert reference is not None
    reference_curve = WeibullCurve(survival_at_time, time, reference_shape, label=label, provenance=provenance)
    result = ApproximateComparison(
        benchmark=label,
        label=APPROXIMATE_LABEL,
        survival_at_time=float(survival_at_time),
        time=float(time),
        reference_shape=float(reference_shape),
        n=reference.n,
        events=reference.events,
        one_sample=reference,
        smr_e_value=_smr_e_value(reference, reference_curve),
        smr_band=(min(r.smr for r in rows), max(r.smr for r in rows)),
        smr_ci_band=(min(r.smr_ci_lower for r in rows), max(r.smr_ci_upper for r in rows)),
        rmst_registry=rmst(cohort, duration_col, event_col, stop, label="registry", alpha=alpha).with_caveats(
            cv.REAL_WORLD_NON_RANDOMISED
        ),
        rmst_benchmark_band=(min(r.rmst_benchmark for r in rows), max(r.rmst_benchmark for r in rows)),
        shapes=tuple(rows),
    )
    return result.with_caveats(cv.REAL_WORLD_NON_RANDOMISED, cv.CONFOUNDING, *codes)
