"""Finding a patient by direct identifiers: name, NHS number, date of birth.

Only for roles that may see identities, and only among the patients of the user's own sites
(the sites they belong to, even for a role that sees every site pseudonymously). The NHS
number is matched exactly through its keyed hash (`blind_index`), never decrypted; names and
dates of birth are encrypted at rest, so they are compared after decryption, site by site.
Every search is logged (`IdentitySearch`: who, when, by which fields, how many found) and each
patient shown is an `IdentityAccess`.

A search needs the NHS number, or the family name with the given name or the date of birth,
so the page cannot be used to list a site's patients by identity.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError

from registry.crypto import blind_index
from registry.models import IdentityAccess, IdentitySearch, Patient, PatientIdentity, User
from registry.nhs_number import nhs_number_error, normalise_nhs_number
from registry.selectors import can_see_identity

CHANNEL = "identity search"
TOO_BROAD = "Give the NHS number, or the family name with the given name or the date of birth."


@dataclass(frozen=True)
class Found:
    patient: Patient
    identity: PatientIdentity


def fold(text: str) -> str:
    """Case, accents, hyphens and spaces ignored: “O'Brien-Smith ” finds “o’brien smith”."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if c.isalnum())
    return kept


def identity_search(
    user: User,
    *,
    family_name: str = "",
    given_name: str = "",
    nhs_number: str = "",
    date_of_birth: dt.date | None = None,
) -> list[Found]:
    if not can_see_identity(user):
        raise PermissionDenied("Your role does not see patients' identities.")
    family, given, nhs = fold(family_name), fold(given_name), nhs_number.strip()
    if not nhs and not (family and (given or date_of_birth)):
        raise ValidationError(TOO_BROAD)
    identities = PatientIdentity.objects.filter(patient__site__in=user.sites.all()).select_related("patient__site")
    if nhs:
        error = nhs_number_error(nhs)
        if error:
            raise ValidationError({"nhs_number": error})
        identities = identities.filter(nhs_number_hash=blind_index(normalise_nhs_number(nhs)))
    found = [
        Found(identity.patient, identity)
        for identity in identities
        if (not family or fold(identity.family_name) == family)
        and (not given or fold(identity.given_name).startswith(given))
        and (date_of_birth is None or identity.date_of_birth == date_of_birth)
    ]
    criteria = [
        name
        for name, value in (
            ("nhs_number", nhs),
            ("family_name", family),
            ("given_name", given),
            ("date_of_birth", date_of_birth),
        )
        if value
    ]
    IdentitySearch.objects.create(user=user, criteria=",".join(criteria), results=len(found))
    IdentityAccess.objects.bulk_create(
        [IdentityAccess(user=user, patient=f.patient, channel=CHANNEL, path="/patients/find/") for f in found]
    )
    return sorted(found, key=lambda f: f.patient.study_id)
