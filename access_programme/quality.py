"""The access programme's data-quality check, registered with the registry's rules on start-up:
a cycle with doses missed and no interruption recorded (`cycle_findings`, the same function
the cycle services and the importer apply on entry), re-checked nightly because a cycle
entered on day 1 is only doubtful once its dosing days are over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from access_programme.models import MISSED_DOSES_RULE, TreatmentCycle, cycle_findings
from registry.constants import DOSING_DAYS_PER_CYCLE
from registry.models import DataQualityRule
from registry.quality import FoundOn, register


@register(MISSED_DOSES_RULE)
def missed_doses(rule: DataQualityRule, patient_ids: Sequence[int], today: dt.date) -> list[FoundOn]:
    cycles = TreatmentCycle.objects.filter(
        patient_id__in=list(patient_ids), days_administered__lt=DOSING_DAYS_PER_CYCLE, interrupted=False
    )
    return [(cycle, finding) for cycle in cycles for finding in cycle_findings(cycle, today=today)]
