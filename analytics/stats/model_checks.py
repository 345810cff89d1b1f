"""Events per variable: warn below 10 and reduce the model to what the events can support.

Peduzzi et al. (J Clin Epidemiol 1995;48:1503-10) found Cox coefficients biased and their CIs
unreliable below about 10 events per estimated coefficient. The covariates are taken in the
order given (the SAP's priority order), the forced ones (e.g. the treatment indicator) first,
and the model keeps as many as the events allow. What was dropped is named, never silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.stats import caveats as cv
from analytics.stats.caveats import Caveat
from analytics.stats.results import ResultMixin

MIN_EVENTS_PER_VARIABLE = 10


@dataclass(frozen=True, eq=False)
class EPVCheck(ResultMixin):
    """The covariates requested, those kept, and the events per variable of each model."""

    n: int
    events: int
    threshold: float
    requested: tuple[str, ...]
    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    epv_requested: float
    epv_kept: float
    reduced: bool
    warning: str
    caveats: tuple[Caveat, ...] = ()


def events_per_variable(
    events: int,
    covariates: Sequence[str],
    forced: Sequence[str] = (),
    n: int = 0,
    threshold: float = MIN_EVENTS_PER_VARIABLE,
) -> EPVCheck:
    """Keep ``forced`` and then ``covariates`` in order while events / (number kept) >= threshold.

    Each name counts as one coefficient (dummy-code categories into separate names first).
    """
    forced = list(dict.fromkeys(forced))
    rest = [c for c in dict.fromkeys(covariates) if c not in forced]
    requested = (*forced, *rest)
    if not requested:
        raise ValueError("no covariates to check")
    allowed = max(int(events // threshold), len(forced))
    kept = (*forced, *rest[: max(allowed - len(forced), 0)])
    dropped = tuple(c for c in requested if c not in kept)
    epv_requested = events / len(requested)
    epv_kept = events / len(kept) if kept else float("inf")
    warning = ""
    if dropped:
        warning = (
            f"{events} events for {len(requested)} coefficients ({epv_requested:.1f} per variable, below "
            f"{threshold:g}): the model keeps {', '.join(kept)} and drops {', '.join(dropped)}."
        )
    elif epv_kept < threshold:
        warning = f"{events} events for the forced covariates alone: {epv_kept:.1f} per variable, below {threshold:g}."
    result = EPVCheck(
        n=int(n),
        events=int(events),
        threshold=float(threshold),
        requested=requested,
        kept=kept,
        dropped=dropped,
        epv_requested=float(epv_requested),
        epv_kept=float(epv_kept),
        reduced=bool(dropped),
        warning=warning,
    )
    return result.with_caveats(cv.LOW_EVENTS_PER_VARIABLE) if warning else result
