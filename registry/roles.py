"""What each role may change. Reading is decided by registry.selectors."""

from __future__ import annotations

from enum import StrEnum

from registry.models import Role, User


class Area(StrEnum):
    CLINICAL = "clinical"  # patients, identity, consent, diagnosis, ALSFRS-R, biomarkers, events, AEs, enrolment
    PHARMACY = "pharmacy"  # batches, cycles, dispensing
    IMPORT = "import"  # bulk cohort import
    QUERY_MANAGE = "query_manage"  # raise data queries by hand, close and re-open them
    QUERY_ANSWER = "query_answer"  # answer a data query on a patient of one's site


WRITERS: dict[Area, frozenset[str]] = {
    Area.CLINICAL: frozenset({Role.CLINICIAN, Role.DATA_MANAGER}),
    Area.PHARMACY: frozenset({Role.PHARMACIST, Role.DATA_MANAGER}),
    Area.IMPORT: frozenset({Role.DATA_MANAGER}),
    Area.QUERY_MANAGE: frozenset({Role.DATA_MANAGER}),
    Area.QUERY_ANSWER: frozenset({Role.CLINICIAN, Role.PHARMACIST, Role.DATA_MANAGER}),
}


def may_write(user: User, area: Area) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser or user.role in WRITERS[area])
