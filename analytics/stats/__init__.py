"""Pure statistics for the registry: DataFrames in, frozen result dataclasses out.

No Django here, so the functions can be tested and re-run anywhere (Celery
tasks, notebooks, R comparisons). Numbers agree with R's survival package;
see bench/r_reference for the reference fixtures.
"""

from analytics.stats.alsfrs import AlsfrsSlopeResult, alsfrs_slope
from analytics.stats.benchmark_curve import BenchmarkCurve, BenchmarkRangeError
from analytics.stats.caveats import CAVEATS, Caveat, get_caveats
from analytics.stats.cox_diagnostics import PHTest, PHTestRow, concordance_index
from analytics.stats.cox_model import CoxResult, CoxTerm, cox
from analytics.stats.encals import EncalsPredictors, encals_smr
from analytics.stats.guyot import GuyotResult, reconstruct_ipd
from analytics.stats.km import KMResult, SurvivalAtTime, kaplan_meier
from analytics.stats.log_rank import GroupSummary, TestResult, logrank
from analytics.stats.smr import SMRResult, exact_poisson_ci, one_sample_logrank, poisson_exact_p, smr_from_counts

__all__ = [
    "CAVEATS",
    "AlsfrsSlopeResult",
    "BenchmarkCurve",
    "BenchmarkRangeError",
    "Caveat",
    "CoxResult",
    "CoxTerm",
    "EncalsPredictors",
    "GroupSummary",
    "GuyotResult",
    "KMResult",
    "PHTest",
    "PHTestRow",
    "SMRResult",
    "SurvivalAtTime",
    "TestResult",
    "alsfrs_slope",
    "concordance_index",
    "cox",
    "encals_smr",
    "exact_poisson_ci",
    "get_caveats",
    "kaplan_meier",
    "logrank",
    "one_sample_logrank",
    "poisson_exact_p",
    "reconstruct_ipd",
    "smr_from_counts",
]
