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
BENCHMARK_APPROXIMATE = "benchmark_approximate"
BENCHMARK_TEST = "benchmark_test_only"
EXTERNAL_COMPARATOR = "external_comparator"
RMST_EXTRAPOLATED = "rmst_extrapolated"
IPTW = "iptw_measured_confounders"
MAIC_UNANCHORED = "maic_unanchored"
MULTIPLE_IMPUTATION = "multiple_imputation_mar"
COMPLETE_CASE = "complete_case"
LOW_EVENTS_PER_VARIABLE = "low_events_per_variable"
ENCALS_MISSING_PREDICTORS = "encals_missing_predictors"
VENTILATION_DEFINITION = "ventilation_definition_differs"
E_VALUE = "e_value_reading"

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
        Caveat(
            BENCHMARK_APPROXIMATE,
            "Approximate: curve shape assumed",
            "Only a survival proportion at one time is known for this benchmark, so the shape of "
            "its curve before that time is assumed. ALS hazard rises with time, and a constant-"
            "hazard curve puts too many expected deaths early; read the result with its "
            "sensitivity band over Weibull shapes.",
        ),
        Caveat(
            BENCHMARK_TEST,
            "Test benchmark: not a trial result",
            "This benchmark is synthetic test data that exercises the reconstruction path. It is "
            "not a published trial arm and says nothing about IL-2LD.",
        ),
        Caveat(
            EXTERNAL_COMPARATOR,
            "External comparator",
            "The comparison arm comes from another study (a published trial arm), with its own "
            "eligibility, era, care and outcome ascertainment. Only the recorded eligibility "
            "criteria are aligned; other differences remain.",
        ),
        Caveat(
            RMST_EXTRAPOLATED,
            "Follow-up shorter than the RMST horizon",
            "No patient was followed to the horizon, so the last survival value is carried "
            "forward to it (as R does). The RMST then assumes no events after the last follow-up.",
        ),
        Caveat(
            IPTW,
            "Weighting removes measured confounding only",
            "Inverse probability of treatment weights balance the covariates in the propensity "
            "model only. Unmeasured prognostic factors, model misspecification and patients "
            "with little chance of one route (positivity) can still bias the comparison.",
        ),
        Caveat(
            MAIC_UNANCHORED,
            "Unanchored MAIC",
            "Without a common comparator arm, matching-adjusted indirect comparison assumes "
            "that every prognostic factor and effect modifier is matched to the trial's "
            "published baseline. That assumption cannot be checked and is rarely met.",
        ),
        Caveat(
            MULTIPLE_IMPUTATION,
            "Multiple imputation assumes missing at random",
            "Missing covariates were imputed by chained equations (including the event "
            "indicator and the Nelson-Aalen cumulative hazard) and pooled by Rubin's rules. "
            "This is valid if values are missing at random given the imputation model.",
        ),
        Caveat(
            COMPLETE_CASE,
            "Complete-case analysis",
            "Patients with a missing covariate were left out. Unless values are missing "
            "completely at random, or missingness depends only on the covariates, the "
            "estimate can be biased; it is a sensitivity analysis beside the imputed one.",
        ),
        Caveat(
            LOW_EVENTS_PER_VARIABLE,
            "Few events per variable",
            "Fewer than 10 events per estimated coefficient (Peduzzi 1995): the model was "
            "reduced to the covariates listed first in the plan, and the estimates may be "
            "unstable or biased away from 1.",
        ),
        Caveat(
            ENCALS_MISSING_PREDICTORS,
            "ENCALS predictors missing",
            "Some patients lacked a predictor of the ENCALS model. Unknown values are treated "
            "as missing, never as negative; the report states how many lacked each predictor "
            "and how they were handled.",
        ),
        Caveat(
            VENTILATION_DEFINITION,
            "Ventilation definition differs",
            "The registry records permanent ventilation as NIV > 22 h/day (the trial-style "
            "definition), while the ENCALS composite uses > 23 h/day. Counting 22-23 h/day "
            "users as events can only raise the observed count, against the treatment.",
        ),
        Caveat(
            E_VALUE,
            "Reading an E-value",
            "The E-value is the minimum risk ratio an unmeasured confounder would need with both "
            "treatment and outcome to explain the estimate away (VanderWeele & Ding 2017). It "
            "says nothing about selection, measurement or benchmark error.",
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
