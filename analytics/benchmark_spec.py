"""A benchmark figure as the pure analyses receive it (the database keeps versions and history)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark figure from a trial, with its provenance.

    kind: "hazard_ratio" (value with CI, `comparison` names it), "survival_at" (S at
    `time_days` for `arm`), "km_points" (digitised (day, S) points for `arm`), "deaths"
    (value = deaths of `n` in `arm`), "slope" (ALSFRS-R points/month).
    """

    code: str
    label: str
    kind: str
    provenance: str
    source: str
    value: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    time_days: float | None = None
    arm: str = ""
    stratum: str = "all"
    comparison: str = ""
    n: int | None = None
    points: tuple[tuple[float, float], ...] = ()
    risk_table: tuple[tuple[float, int], ...] = ()
    total_events: int | None = None
    is_test: bool = False


FORUM_OR_AGGREGATOR = ("reddit", "forum", "facebook.com", "twitter.com", "x.com/", "medpath", "4-traders")
"""Markers of a forum, social network or news aggregator in a source text (docs/methods.md §8)."""


def forum_or_aggregator(text: str) -> bool:
    """True when a source text names a forum, a social network or a news aggregator."""
    lowered = text.lower()
    return any(marker in lowered for marker in FORUM_OR_AGGREGATOR)
