"""A reference survival curve given as (t, S) points: the benchmark of a one-sample comparison."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from analytics.stats import caveats as cv
from analytics.stats.km import KMResult

Interpolation = Literal["step", "linear", "log-linear"]
Extrapolation = Literal["refuse", "censor", "last_hazard"]


class BenchmarkRangeError(ValueError):
    """Follow-up extends beyond the benchmark curve and extrapolation='refuse'."""


@dataclass(frozen=True, eq=False)
class BenchmarkCurve:
    """A reference survival curve given as (t, S) points, e.g. a trial arm.

    ``interpolation`` between points:
      * "log-linear" (default): the cumulative hazard -ln S is joined
        linearly, i.e. a constant hazard within each interval (piecewise
        exponential). Digitised points sample a curve; reading them as a
        step function stops the hazard between points and undercounts
        expected deaths (issue 13 measured about 3 % on the SMR);
      * "step": S stays at the last point until the next (the KM of
        individual data, where the steps are the data);
      * "linear": S is joined linearly (a digitised curve drawn as lines).
    ``extrapolation`` beyond the last point (the horizon):
      * "refuse" (default): raise BenchmarkRangeError, because the curve
        says nothing about risk after its horizon;
      * "censor": administratively censor follow-up at the horizon (events
        after it are not counted, patients entering after it are excluded);
      * "last_hazard": carry forward the average hazard of the last interval,
        (Λ_K - Λ_{K-1}) / (t_K - t_{K-1}); a flat final segment therefore
        predicts no further deaths.
    A point (0, 1) is prepended when the first time is after 0. The time
    origin must match the cohort's (e.g. MIROCALS counts from randomisation).
    """

    times: tuple[float, ...]
    survival: tuple[float, ...]
    interpolation: Interpolation = "log-linear"
    extrapolation: Extrapolation = "refuse"
    label: str = "benchmark"
    provenance: str = "unconfirmed"
    source: str = ""

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=float)
        s = np.asarray(self.survival, dtype=float)
        if t.ndim != 1 or t.size != s.size or t.size == 0:
            raise ValueError("times and survival must be 1-d and of equal, non-zero length")
        if np.isnan(t).any() or np.isnan(s).any():
            raise ValueError("benchmark points must not be NaN")
        if t[0] < 0 or np.any(np.diff(t) <= 0):
            raise ValueError("benchmark times must be >= 0 and strictly increasing")
        if np.any(s <= 0) or np.any(s > 1):
            raise ValueError("benchmark survival must be in (0, 1]; S = 0 has infinite hazard")
        if np.any(np.diff(s) > 0):
            raise ValueError("benchmark survival must be non-increasing")
        if self.interpolation not in ("step", "linear", "log-linear"):
            raise ValueError(f"unknown interpolation {self.interpolation!r}")
        if self.extrapolation not in ("refuse", "censor", "last_hazard"):
            raise ValueError(f"unknown extrapolation {self.extrapolation!r}")
        cv.benchmark_provenance_caveat(self.provenance)  # validates the tag
        if t[0] > 0:
            t = np.concatenate([[0.0], t])
            s = np.concatenate([[1.0], s])
        if self.extrapolation == "last_hazard" and t.size < 2:
            raise ValueError("'last_hazard' extrapolation needs at least two points")
        object.__setattr__(self, "times", tuple(float(v) for v in t))
        object.__setattr__(self, "survival", tuple(float(v) for v in s))

    @classmethod
    def from_km(
        cls,
        km: KMResult,
        interpolation: Interpolation = "step",
        extrapolation: Extrapolation = "refuse",
        label: str | None = None,
        provenance: str = "unconfirmed",
        source: str = "",
    ) -> BenchmarkCurve:
        """Benchmark from a KM fit (e.g. of Guyot pseudo-IPD).

        Uses the survival after each event time; the curve ends at the last
        time with S > 0 (a KM curve that reaches 0 has infinite hazard).
        """
        tl = km.timeline
        pts = tl[(tl["events"] > 0) & (tl["survival"] > 0)]
        times = tuple(float(v) for v in pts["time"])
        surv = tuple(float(v) for v in pts["survival"])
        last_time = float(tl["time"].iloc[-1])
        if tl["survival"].iloc[-1] > 0 and (not times or last_time > times[-1]):
            times += (last_time,)
            surv += (float(tl["survival"].iloc[-1]),)
        if not times:
            times, surv = (last_time,), (1.0,)
        return cls(
            times=times,
            survival=surv,
            interpolation=interpolation,
            extrapolation=extrapolation,
            label=km.label if label is None else label,
            provenance=provenance,
            source=source,
        )

    @property
    def horizon(self) -> float:
        """Last benchmark time; beyond it the extrapolation rule applies."""
        return self.times[-1]

    @property
    def last_hazard(self) -> float:
        """Average hazard over the final interval (used by 'last_hazard')."""
        t = np.asarray(self.times)
        cumhaz = -np.log(np.asarray(self.survival))
        if t.size < 2:
            return math.nan
        return float((cumhaz[-1] - cumhaz[-2]) / (t[-1] - t[-2]))

    def cumulative_hazard(self, t: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """Λ(t) = -ln S(t) under the chosen interpolation and extrapolation."""
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(tt < 0):
            raise ValueError("times must be >= 0")
        bt = np.asarray(self.times)
        bs = np.asarray(self.survival)
        cumhaz_pts = -np.log(bs)
        beyond = tt > self.horizon
        if beyond.any() and self.extrapolation == "refuse":
            raise BenchmarkRangeError(
                f"time {tt[beyond].max():g} is beyond the benchmark horizon "
                f"{self.horizon:g}; use extrapolation='censor' or 'last_hazard'"
            )
        inside = np.minimum(tt, self.horizon)
        if self.interpolation == "step":
            idx = np.searchsorted(bt, inside, side="right") - 1
            out = np.where(idx >= 0, cumhaz_pts[np.maximum(idx, 0)], 0.0)
        elif self.interpolation == "linear":
            out = -np.log(np.interp(inside, bt, bs, left=1.0))
        else:
            out = np.interp(inside, bt, cumhaz_pts, left=0.0)
        if self.extrapolation == "last_hazard":
            out = out + np.where(beyond, self.last_hazard * (tt - self.horizon), 0.0)
        return out

    def survival_at(self, t: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """S(t) = exp(-Λ(t))."""
        survival: np.ndarray = np.exp(-self.cumulative_hazard(t))
        return survival

    def restricted_mean(self, tau: float) -> float:
        """∫₀^τ S(t) dt under the curve's interpolation (exact); τ may not pass the horizon
        unless the curve extrapolates by its last hazard."""
        if not tau > 0:
            raise ValueError("tau must be > 0")
        if tau > self.horizon and self.extrapolation != "last_hazard":
            raise BenchmarkRangeError(f"the curve ends at {self.horizon:g}, before tau = {tau:g}")
        t = np.asarray(self.times)
        t = np.concatenate([t[t < tau], [tau]])
        if tau > self.horizon:
            t = np.concatenate([np.asarray(self.times), [tau]])
        cumhaz = self.cumulative_hazard(t)
        width = np.diff(t)
        lo, hi = cumhaz[:-1], cumhaz[1:]
        if self.interpolation == "step":
            return float(np.sum(width * np.exp(-lo)))
        if self.interpolation == "linear":
            return float(np.sum(width * (np.exp(-lo) + np.exp(-hi)) / 2))
        rise = hi - lo
        with np.errstate(divide="ignore", invalid="ignore"):
            area = np.where(rise > 1e-12, width * (np.exp(-lo) - np.exp(-hi)) / rise, width * np.exp(-lo))
        return float(np.sum(area))


@dataclass(frozen=True, eq=False)
class WeibullCurve:
    """A curve known by one point only, S(τ) = p, with an assumed Weibull shape k.

    Λ(t) = −ln(p)·(t/τ)^k: k = 1 is the constant hazard, k > 1 a hazard rising with time (as in
    ALS). Used for benchmarks given as a single proportion, always labelled approximate and
    shown over a range of shapes. Follow-up beyond τ is censored at τ.
    """

    survival_at_tau: float
    tau: float
    shape: float = 1.0
    label: str = "benchmark"
    provenance: str = "unconfirmed"
    source: str = ""
    extrapolation: Extrapolation = "censor"

    def __post_init__(self) -> None:
        if not 0 < self.survival_at_tau < 1:
            raise ValueError("the survival proportion must lie strictly between 0 and 1")
        if not self.tau > 0 or not self.shape > 0:
            raise ValueError("tau and the Weibull shape must be > 0")
        if self.extrapolation != "censor":
            raise ValueError("a one-point curve says nothing beyond its time point: extrapolation must be 'censor'")
        cv.benchmark_provenance_caveat(self.provenance)

    @property
    def horizon(self) -> float:
        return self.tau

    @property
    def interpolation(self) -> str:
        return f"Weibull through S({self.tau:g}) = {self.survival_at_tau:g}, shape {self.shape:g}"

    def cumulative_hazard(self, t: np.ndarray | Sequence[float] | float) -> np.ndarray:
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(tt < 0):
            raise ValueError("times must be >= 0")
        inside = np.minimum(tt, self.tau)
        hazard: np.ndarray = -math.log(self.survival_at_tau) * (inside / self.tau) ** self.shape
        return hazard

    def survival_at(self, t: np.ndarray | Sequence[float] | float) -> np.ndarray:
        survival: np.ndarray = np.exp(-self.cumulative_hazard(t))
        return survival

    def restricted_mean(self, tau: float) -> float:
        """∫₀^τ exp(−c (t/T)^k) dt = (T/k) c^(−1/k) γ(1/k, c (τ/T)^k), γ the lower incomplete gamma."""
        if not 0 < tau <= self.tau:
            raise BenchmarkRangeError(f"the curve is defined up to {self.tau:g}, not {tau:g}")
        c = -math.log(self.survival_at_tau)
        a = 1.0 / self.shape
        x = c * (tau / self.tau) ** self.shape
        return float(self.tau / self.shape * c ** (-a) * special.gamma(a) * special.gammainc(a, x))


ReferenceCurve = BenchmarkCurve | WeibullCurve
"""Anything the one-sample comparison can use: Λ(t), a horizon and provenance."""
