"""A realistic synthetic cohort for the demo and the benchmarks.

Deterministic for a given seed and reference date. Natural history follows the domain
reference: ALSFRS-R decline around 0.9 points/month (PRECISION-ALS), CSF pNFH spread so that
about 70 % fall in the MIROCALS low stratum (750-3700 pg/mL) and about 20 % above it, and a
death hazard that rises with progression rate and pNFH. Patients are written in chunks via
simple-history's bulk helpers, so memory stays flat and every row still has its audit entry.
NHS numbers use the 999 test range, which is never issued to a real patient.
"""

from access_programme.demo_cohort.common import DEMO_REASON, PROGRAMME_START, SITES, SeedResult
from access_programme.demo_cohort.generator import CohortGenerator
from access_programme.demo_cohort.users import DEMO_USERS, ensure_demo_users
from access_programme.demo_cohort.writing import ensure_sites, seed_cohort

__all__ = [
    "DEMO_REASON",
    "DEMO_USERS",
    "PROGRAMME_START",
    "SITES",
    "CohortGenerator",
    "SeedResult",
    "ensure_demo_users",
    "ensure_sites",
    "seed_cohort",
]
