"""What an electronic signature binds, and what it locks.

The signed content is every field of every record the signature covers: for a casebook, the
patient and each of their records of a kind the signature locks; for a visit, the ALSFRS-R
assessment. With the signature's own particulars (signer, printed name, time, meaning) and the
record's identity, it is hashed with HMAC-SHA256 under the application's secret key, so the
hash of one record cannot be recomputed for another by someone with database access alone
(21 CFR 11.70: signatures linked to their records so they cannot be excised, copied or
transferred to falsify a record).

Records a signature does not lock (`ClinicalRecord.signature_locks = False`) are also left out
of its content: a consent withdrawal or a pharmacovigilance report must stay possible after
sign-off, and does not break the signature.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.crypto import constant_time_compare, salted_hmac

from registry.models import ClinicalRecord, Patient, Signature, SignatureScope

HASH_SALT = "registry.signing.Signature"
#: Fields that change without any change of content (bookkeeping).
UNSIGNED_FIELDS = frozenset({"updated_at"})


def locks(model: type[models.Model]) -> bool:
    return issubclass(model, ClinicalRecord) and bool(getattr(model, "signature_locks", True))


def casebook_models() -> list[type[models.Model]]:
    """The kinds of record a casebook signature covers: every clinical record of a patient."""
    return [
        model
        for model in apps.get_models()
        if locks(model) and model is not Patient and "patient" in {f.name for f in model._meta.get_fields()}
    ]


def _values(record: models.Model) -> dict[str, Any]:
    return {
        field.attname: _plain(getattr(record, field.attname))
        for field in record._meta.concrete_fields
        if field.attname not in UNSIGNED_FIELDS
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def signed_content(scope: str, record: models.Model) -> list[dict[str, Any]]:
    """The records a signature covers, each as its label, key and field values, in a fixed order
    (read from the database, as stored, whatever the caller holds in memory)."""
    covered: list[models.Model] = [type(record)._default_manager.get(pk=record.pk)]
    if scope == SignatureScope.CASEBOOK:
        for model in casebook_models():
            covered.extend(model._default_manager.filter(**{"patient_id": record.pk}).order_by("pk"))
    return [{"record": r._meta.label_lower, "pk": r.pk, "values": _values(r)} for r in covered]


def content_hash(signature: Signature, record: models.Model, secret: str | None = None) -> str:
    payload = {
        "signature": {
            "scope": signature.scope,
            "record": [record._meta.label_lower, record.pk],
            "patient": signature.patient_id,
            "signer": signature.signer_id,
            "printed_name": signature.printed_name,
            "signed_at": signature.signed_at.isoformat(),
            "meaning": signature.meaning,
        },
        "content": signed_content(signature.scope, record),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return salted_hmac(HASH_SALT, text, secret=secret, algorithm="sha256").hexdigest()


def signature_verifies(signature: Signature) -> bool:
    """Whether the signature still matches its record's content (under the current key or a
    fallback of SECRET_KEY_FALLBACKS, so a key rotation does not void signatures)."""
    from django.conf import settings

    record = signature.record
    if record is None:
        return False
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(content_hash(signature, record, secret=secret), signature.content_hash):
            return True
    return False


def locking_signature(record: models.Model) -> Signature | None:
    """The valid signature that locks this record, if any: its patient's casebook signature, or
    its own (a signed visit)."""
    if not locks(type(record)):
        return None
    patient_id = record.pk if isinstance(record, Patient) else getattr(record, "patient_id", None)
    if patient_id is None:
        return None
    covering = Q(patient_id=patient_id, scope=SignatureScope.CASEBOOK)
    if record.pk is not None:
        covering |= Q(record_type=ContentType.objects.get_for_model(record), record_id=record.pk)
    return Signature.objects.filter(covering, invalidated_at__isnull=True).select_related("signer").first()


def lock_message(signature: Signature) -> str:
    what = "casebook" if signature.scope == SignatureScope.CASEBOOK else "visit"
    return (
        f"This {what} was signed by {signature.printed_name} on {signature.signed_at:%d %b %Y at %H:%M} and is "
        "locked: nothing was saved. A data manager can unlock it, giving a reason; the signature then no longer holds."
    )


def signed_casebooks(patient_ids: Iterable[int]) -> set[int]:
    """Of these patients, those whose casebook has a valid signature (set-wise, for the importer:
    an import chunk names its patients once per row, so each is asked about once, as one array)."""
    valid = Signature.objects.filter(scope=SignatureScope.CASEBOOK, invalidated_at__isnull=True)
    return set(valid.filter(patient_id__any_of=set(patient_ids)).values_list("patient_id", flat=True))


def signed_records(model: type[models.Model], pks: Iterable[int]) -> set[int]:
    """Of these records of one kind, those signed themselves (a visit) and still valid."""
    valid = Signature.objects.filter(record_type=ContentType.objects.get_for_model(model), invalidated_at__isnull=True)
    return set(valid.filter(record_id__any_of=set(pks)).values_list("record_id", flat=True))


LOCKED_ROW = "the patient's casebook (or this visit) is signed and locked; a data manager must unlock it first."
