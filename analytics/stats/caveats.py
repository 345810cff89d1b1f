"""Standard caveat texts that results carry with them.

Registry analyses are observational and often compared against published
numbers of uneven quality. The caveats travel inside each result (and its
JSON) so that no table or export can show an estimate without them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caveat:
    """A short, stable code plus the human-readable warning."""

    code: str
    title: str
    text: str


REAL_WORLD_NON_RANDOMISED = "real_world_non_randomised"
CONFOUNDING = "confounding"
IMMORTAL_TIME_BIAS = "immortal_time_bias"
LEFT_TRUNCATION = "left_truncation"
BENCHMARK_CONFIRMED = "benchmark_confirmed"
BENCHMARK_SECONDARY = "benchmark_secondary"
BENCHMARK_UNCONFIRMED = "benchmark_unconfirmed"
BENCHMARK_RECONSTRUCTED = "benchmark_reconstructed"
ENCALS_UNVERIFIED = "encals_coefficients_unverified"
SMALL_SAMPLE = "small_sample"

CAVEATS: dict[str, Caveat] = {
    c.code: c
    for c in (
        Caveat(
            REAL_WORLD_NON_RANDOMISED,
            "Real-world, non-randomised data",
            "These patients were not randomised. Differences from a trial or "
            "between groups may reflect who was selected for treatment, not "
            "the effect of treatment.",
        ),
        Caveat(
            CONFOUNDING,
            "Confounding",
            "Prognostic factors (age, onset site, progression rate, FVC, "
            "pNFH, C9orf72, FTD) may differ between the groups compared. "
            "Unadjusted estimates can be biased in either direction, and "
            "adjustment only removes confounding by measured factors.",
        ),
        Caveat(
            IMMORTAL_TIME_BIAS,
            "Immortal-time bias",
            "If time zero precedes treatment start (for example symptom onset "
            "or diagnosis), patients must survive until treatment to be "
            "counted as treated. Classifying them as treated from time zero "
            "inflates their survival; use treatment start as time zero or "
            "delayed entry.",
        ),
        Caveat(
            LEFT_TRUNCATION,
            "Left truncation (delayed entry)",
            "Patients enter the risk set only from their entry time. Early "
            "risk sets can be small, making early survival estimates "
            "unstable, and the estimate is conditional on surviving to entry.",
        ),
        Caveat(
            BENCHMARK_CONFIRMED,
            "Benchmark from a primary source",
            "The benchmark values were checked against the primary "
            "publication. Trial populations are selected (age, disease "
            "duration, vital capacity) and may not resemble this cohort.",
        ),
        Caveat(
            BENCHMARK_SECONDARY,
            "Benchmark from secondary sources",
            "The benchmark values come from secondary sources (news, charity "
            "or conference reports quoting the trial) and have not been "
            "checked against the primary publication.",
        ),
        Caveat(
            BENCHMARK_UNCONFIRMED,
            "Unconfirmed benchmark",
            "The benchmark values are unverified. Treat any comparison as illustrative only.",
        ),
        Caveat(
            BENCHMARK_RECONSTRUCTED,
            "Benchmark reconstructed from a published figure",
            "The benchmark curve was digitised from a published Kaplan-Meier "
            "figure and reconstructed (Guyot 2012). Digitising error and the "
            "uniform-censoring assumption carry into every comparison.",
        ),
        Caveat(
            ENCALS_UNVERIFIED,
            "ENCALS coefficients not verified",
            "The ENCALS coefficients come from public code, not the paper's "
            "supplement. The model predicts the composite of death, "
            "tracheostomy or NIV >23 h/day from symptom onset; compare "
            "against the same composite.",
        ),
        Caveat(
            SMALL_SAMPLE,
            "Small sample",
            "Few patients or events: estimates are imprecise and large-sample approximations may be poor.",
        ),
    )
}


def get_caveats(*codes: str) -> tuple[Caveat, ...]:
    """Return the caveats for ``codes`` in the given order.

    Raises KeyError for an unknown code so typos fail loudly instead of
    silently dropping a warning.
    """
    unknown = [c for c in codes if c not in CAVEATS]
    if unknown:
        raise KeyError(f"unknown caveat code(s): {', '.join(unknown)}")
    return tuple(CAVEATS[c] for c in codes)


def benchmark_provenance_caveat(provenance: str) -> str:
    """Map a provenance tag ('confirmed', 'secondary', ...) to a caveat code."""
    mapping = {
        "confirmed": BENCHMARK_CONFIRMED,
        "secondary": BENCHMARK_SECONDARY,
        "unconfirmed": BENCHMARK_UNCONFIRMED,
        "reconstructed": BENCHMARK_RECONSTRUCTED,
    }
    try:
        return mapping[provenance]
    except KeyError:
        raise ValueError(f"provenance must be one of {sorted(mapping)}, got {provenance!r}") from None
