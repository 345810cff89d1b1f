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
    SIGN = "sign"  # sign a casebook or a visit as its investigator
    UNLOCK = "unlock"  # unlock a signed record, which invalidates the signature


WRITERS: dict[Area, frozenset[str]] = {
    Area.CLINICAL: frozenset({Role.CLINICIAN, Role.DATA_MANAGER}),
    Area.PHARMACY: frozenset({Role.PHARMACIST, Role.DATA_MANAGER}),
    Area.IMPORT: frozenset({Role.DATA_MANAGER}),
    Area.QUERY_MANAGE: frozenset({Role.DATA_MANAGER}),
    Area.QUERY_ANSWER: frozenset({Role.CLINICIAN, Role.PHARMACIST, Role.DATA_MANAGER}),
    Area.SIGN: frozenset({Role.CLINICIAN}),
    Area.UNLOCK: frozenset({Role.DATA_MANAGER}),
}


def may_write(user: User, area: Area) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser or user.role in WRITERS[area])


#: Roles a site lead may grant at their own sites, ranked: a lead grants up to their own rank.
SITE_ROLE_RANK: dict[str, int] = {Role.PHARMACIST: 1, Role.CLINICIAN: 2}


def roles_grantable_by(actor: User) -> list[str]:
    """Roles `actor` may give: a superuser any; a site lead the site roles up to their own; others none."""
    if actor.is_superuser:
        return [str(role) for role in Role.values]
    if not (actor.is_active and actor.is_site_lead):
        return []
    own = SITE_ROLE_RANK.get(actor.role, 0)
    return [role for role, rank in SITE_ROLE_RANK.items() if rank <= own]


def may_manage_user(actor: User, user: User) -> bool:
    """Whether `actor` may deactivate `user`, reset their second factor or change their role.

    A superuser may manage anyone but themselves; a site lead, the users whose every site is one
    of the lead's sites and whose role they could grant (never a superuser, staff, or themselves).
    """
    if actor.pk == user.pk:
        return False
    if actor.is_superuser:
        return True
    if user.is_superuser or user.is_staff or user.role not in roles_grantable_by(actor):
        return False
    user_sites = set(user.sites.values_list("pk", flat=True))
    return bool(user_sites) and user_sites <= set(actor.sites.values_list("pk", flat=True))
