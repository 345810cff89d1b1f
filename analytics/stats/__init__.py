"""Pure statistics for the registry: DataFrames in, frozen result dataclasses out.

No Django here, so the functions can be tested and re-run anywhere (Celery
tasks, notebooks, R comparisons). Numbers agree with R's survival package;
see bench/r_reference for the reference fixtures.
"""

from analytics.stats.alsfrs import AlsfrsSlopeResult, alsfrs_slope
from analytics.stats.benchmark_arm import (
    ApproximateComparison,
    ArmComparison,
    DigitisedArm,
    TwoSampleHR,
    compare_with_arm,
    compare_with_proportion,
)
from analytics.stats.benchmark_curve import BenchmarkCurve, BenchmarkRangeError, WeibullCurve
from analytics.stats.caveats import CAVEATS, Caveat, get_caveats
from analytics.stats.competing_risks import CIFResult, CompetingRisksResult, cumulative_incidence
from analytics.stats.cox_diagnostics import PHTest, PHTestRow, concordance_index
from analytics.stats.cox_model import CoxResult, CoxTerm, cox
from analytics.stats.encals import EncalsPredictors, encals_smr
from analytics.stats.encals_inputs import EncalsInputs, encals_inputs
from analytics.stats.evalue import EValueResult, e_value
from analytics.stats.guyot import GuyotResult, reconstruct_ipd
from analytics.stats.imputation import MIResult, cox_multiple_imputation, rubin_pool
from analytics.stats.km import KMResult, SurvivalAtTime, kaplan_meier
from analytics.stats.log_rank import GroupSummary, TestResult, logrank
from analytics.stats.maic import MAICResult, maic_weights
from analytics.stats.model_checks import EPVCheck, events_per_variable
from analytics.stats.propensity import IPTWResult, effective_sample_size, iptw
from analytics.stats.rmst import RMSTDifference, RMSTResult, rmst, rmst_difference
from analytics.stats.smr import SMRResult, exact_poisson_ci, one_sample_logrank, poisson_exact_p, smr_from_counts

__all__ = [
    "CAVEATS",
    "AlsfrsSlopeResult",
    "ApproximateComparison",
    "ArmComparison",
    "BenchmarkCurve",
    "BenchmarkRangeError",
    "CIFResult",
    "Caveat",
    "CompetingRisksResult",
    "CoxResult",
    "CoxTerm",
    "DigitisedArm",
    "EPVCheck",
    "EValueResult",
    "EncalsInputs",
    "EncalsPredictors",
    "GroupSummary",
    "GuyotResult",
    "IPTWResult",
    "KMResult",
    "MAICResult",
    "MIResult",
    "PHTest",
    "PHTestRow",
    "RMSTDifference",
    "RMSTResult",
    "SMRResult",
    "SurvivalAtTime",
    "TestResult",
    "TwoSampleHR",
    "WeibullCurve",
    "alsfrs_slope",
    "compare_with_arm",
    "compare_with_proportion",
    "concordance_index",
    "cox",
    "cox_multiple_imputation",
    "cumulative_incidence",
    "e_value",
    "effective_sample_size",
    "encals_inputs",
    "encals_smr",
    "events_per_variable",
    "exact_poisson_ci",
    "get_caveats",
    "iptw",
    "kaplan_meier",
    "logrank",
    "maic_weights",
    "one_sample_logrank",
    "poisson_exact_p",
    "reconstruct_ipd",
    "rmst",
    "rmst_difference",
    "rubin_pool",
    "smr_from_counts",
]
