"""ALSFRS-R scoring, King's and MiToS staging, and the progression rate ΔFS.

Pure functions with no Django imports, so they can be used from models, forms,
serializers, imports and analytics alike, and tested without a database.

Sources (see ``/work/shared/reference/domain.md`` sections 2 and 3):

* ALSFRS-R items and wording: Cedarbaum et al., J Neurol Sci 1999;169:13-21.
* King's staging from ALSFRS-R: Balendra et al., ALS-FTD 2014;15:279-284, as
  implemented in ``yoonhohong/proact`` ``staging/estimate_king_mitos_alsfrs.R``.
* MiToS staging: Chiò et al., JNNP 2015;86:38-44, Table 1.
* ΔFS: Kimura et al., Neurology 2006; bands from Labra et al., JNNP 2016.

Items are passed as a mapping of field name (see :data:`ITEM_FIELDS`) to score.
Every item scores 0-4 and **4 is normal**. Item 5 has two alternative versions:
5a (cutting food, no gastrostomy) and 5b (with gastrostomy). Exactly one of
them is scored; the other is ``None`` or absent. Keys not in
:data:`ITEM_FIELDS` are ignored, so a model's field dict can be passed as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from registry.constants import DAYS_PER_MONTH

__all__ = [
    "ALL_ERRORS_KEY",
    "ANSWER_WORDING",
    "DAYS_PER_MONTH",
    "DELTA_FS_BANDS",
    "DELTA_FS_FAST_FROM",
    "DELTA_FS_SLOW_BELOW",
    "DOMAINS",
    "ITEM_FIELDS",
    "ITEM_LABELS",
    "KINGS_STAGES",
    "MAX_ITEM_SCORE",
    "MAX_TOTAL",
    "MITOS_STAGES",
    "REQUIRED_ITEM_FIELDS",
    "AlsfrsrScores",
    "delta_fs",
    "delta_fs_band",
    "item_errors",
    "kings_stage",
    "kings_stage_with_death",
    "mitos_stage",
    "score",
]

ITEM_FIELDS: tuple[str, ...] = (
    "q1_speech",
    "q2_salivation",
    "q3_swallowing",
    "q4_handwriting",
    "q5a_cutting_without_gastrostomy",
    "q5b_cutting_with_gastrostomy",
    "q6_dressing_hygiene",
    "q7_turning_in_bed",
    "q8_walking",
    "q9_climbing_stairs",
    "q10_dyspnoea",
    "q11_orthopnoea",
    "q12_respiratory_insufficiency",
)

Q5A = "q5a_cutting_without_gastrostomy"
Q5B = "q5b_cutting_with_gastrostomy"

#: Items that must always be scored (everything except the 5a/5b pair).
REQUIRED_ITEM_FIELDS: tuple[str, ...] = tuple(field for field in ITEM_FIELDS if field not in (Q5A, Q5B))

#: Key used by :func:`item_errors` for the rule "score exactly one of 5a/5b"
#: (the same key Django uses for non-field errors).
ALL_ERRORS_KEY = "__all__"

MAX_ITEM_SCORE = 4
MAX_TOTAL = 48

ITEM_LABELS: dict[str, str] = {
    "q1_speech": "1. Speech",
    "q2_salivation": "2. Salivation",
    "q3_swallowing": "3. Swallowing",
    "q4_handwriting": "4. Handwriting",
    Q5A: "5a. Cutting food and handling utensils (no gastrostomy)",
    Q5B: "5b. Cutting food and handling utensils (with gastrostomy)",
    "q6_dressing_hygiene": "6. Dressing and hygiene",
    "q7_turning_in_bed": "7. Turning in bed and adjusting bed clothes",
    "q8_walking": "8. Walking",
    "q9_climbing_stairs": "9. Climbing stairs",
    "q10_dyspnoea": "10. Dyspnoea",
    "q11_orthopnoea": "11. Orthopnoea",
    "q12_respiratory_insufficiency": "12. Respiratory insufficiency",
}

#: Answer wording per item, exactly as on the ALSFRS-R form (Cedarbaum 1999).
ANSWER_WORDING: dict[str, dict[int, str]] = {
    "q1_speech": {
        4: "Normal speech processes",
        3: "Detectable speech disturbance",
        2: "Intelligible with repeating",
        1: "Speech combined with nonvocal communication",
        0: "Loss of useful speech",
    },
    "q2_salivation": {
        4: "Normal",
        3: "Slight but definite excess of saliva in mouth; may have nighttime drooling",
        2: "Moderately excessive saliva; may have minimal drooling",
        1: "Marked excess of saliva with some drooling",
        0: "Marked drooling; requires constant tissue or handkerchief",
    },
    "q3_swallowing": {
        4: "Normal eating habits",
        3: "Early eating problems \N{EN DASH} occasional choking",
        2: "Dietary consistency changes",
        1: "Needs supplemental tube feeding",
        0: "NPO (exclusively parenteral or enteral feeding)",
    },
    "q4_handwriting": {
        4: "Normal",
        3: "Slow or sloppy; all words legible",
        2: "Not all words are legible",
        1: "Able to grip pen but unable to write",
        0: "Unable to grip pen",
    },
    Q5A: {
        4: "Normal",
        3: "Somewhat slow and clumsy, but no help needed",
        2: "Can cut most foods, although clumsy and slow; some help needed",
        1: "Food must be cut by someone, but can still feed slowly",
        0: "Needs to be fed",
    },
    Q5B: {
        4: "Normal",
        3: "Clumsy but able to perform all manipulations independently",
        2: "Some help needed with closures and fasteners",
        1: "Provides minimal assistance to caregiver",
        0: "Unable to perform any aspect of task",
    },
    "q6_dressing_hygiene": {
        4: "Normal function",
        3: "Independent and complete self-care with effort or decreased efficiency",
        2: "Intermittent assistance or substitute methods",
        1: "Needs attendant for self-care",
        0: "Total dependence",
    },
    "q7_turning_in_bed": {
        4: "Normal",
        3: "Somewhat slow and clumsy, but no help needed",
        2: "Can turn alone or adjust sheets, but with great difficulty",
        1: "Can initiate, but not turn or adjust sheets alone",
        0: "Helpless",
    },
    "q8_walking": {
        4: "Normal",
        3: "Early ambulation difficulties",
        2: "Walks with assistance",
        1: "Nonambulatory functional movement only",
        0: "No purposeful leg movement",
    },
    "q9_climbing_stairs": {
        4: "Normal",
        3: "Slow",
        2: "Mild unsteadiness or fatigue",
        1: "Needs assistance",
        0: "Cannot do",
    },
    "q10_dyspnoea": {
        4: "None",
        3: "Occurs when walking",
        2: "Occurs with one or more of: eating, bathing, dressing",
        1: "Occurs at rest, difficulty breathing when either sitting or lying",
        0: "Significant difficulty, considering using mechanical respiratory support",
    },
    "q11_orthopnoea": {
        4: "None",
        3: (
            "Some difficulty sleeping at night due to shortness of breath; does not routinely use more than two pillows"
        ),
        2: "Needs extra pillows in order to sleep (more than two)",
        1: "Can only sleep sitting up",
        0: "Unable to sleep",
    },
    "q12_respiratory_insufficiency": {
        4: "None",
        3: "Intermittent use of BiPAP",
        2: "Continuous use of BiPAP during the night",
        1: "Continuous use of BiPAP during the night and day",
        0: "Invasive mechanical ventilation by intubation or tracheostomy",
    },
}

#: Domain subscores, each 0-12. Fine motor lists both 5a and 5b: whichever
#: one is scored counts (exactly one is).
DOMAINS: dict[str, tuple[str, ...]] = {
    "bulbar": ("q1_speech", "q2_salivation", "q3_swallowing"),
    "fine_motor": ("q4_handwriting", Q5A, Q5B, "q6_dressing_hygiene"),
    "gross_motor": ("q7_turning_in_bed", "q8_walking", "q9_climbing_stairs"),
    "respiratory": ("q10_dyspnoea", "q11_orthopnoea", "q12_respiratory_insufficiency"),
}

#: King's stages derivable from ALSFRS-R (Balendra 2014), plus death.
#: Stage 2 is not split into 2A (diagnosis) and 2B (second region): the
#: ALSFRS-R cannot tell them apart.
KINGS_STAGES: list[tuple[str, str]] = [
    ("1", "Stage 1: one region involved"),
    ("2", "Stage 2: two regions involved"),
    ("3", "Stage 3: three regions involved"),
    ("4A", "Stage 4A: gastrostomy"),
    ("4B", "Stage 4B: respiratory support (NIV) needed"),
    ("5", "Stage 5: death"),
]

MITOS_STAGES: list[tuple[int, str]] = [
    (0, "Stage 0: functional involvement, no domain lost"),
    (1, "Stage 1: one domain lost"),
    (2, "Stage 2: two domains lost"),
    (3, "Stage 3: three domains lost"),
    (4, "Stage 4: all four domains lost"),
    (5, "Stage 5: death"),
]

#: Labra et al. 2016 cut-offs, in ALSFRS-R points lost per month.
DELTA_FS_SLOW_BELOW = 0.47
DELTA_FS_FAST_FROM = 1.11

#: ΔFS progression bands as Django-style choices (key, label).
DELTA_FS_BANDS: list[tuple[str, str]] = [
    ("slow", "Slow (\N{GREEK CAPITAL LETTER DELTA}FS below 0.47 points/month)"),
    (
        "intermediate",
        "Intermediate (\N{GREEK CAPITAL LETTER DELTA}FS 0.47 to below 1.11)",
    ),
    ("fast", "Fast (\N{GREEK CAPITAL LETTER DELTA}FS 1.11 points/month or more)"),
]


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _item_value_error(field: str, value: object) -> str | None:
    label = ITEM_LABELS[field]
    # bool is a subclass of int; a tick-box value is not a score.
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{label}: the score must be a whole number from 0 to 4."
    if not 0 <= value <= MAX_ITEM_SCORE:
        return f"{label}: the score must be from 0 to 4 (got {value})."
    return None


def item_errors(items: Mapping[str, int | None]) -> dict[str, str]:
    """Return clinician-readable problems with a set of ALSFRS-R items.

    Keys are item field names, plus ``"__all__"`` for the rule that exactly
    one of item 5a (no gastrostomy) and 5b (with gastrostomy) is scored.
    A missing key and a ``None`` value both mean "not scored". The result is
    an empty dict when the items are complete and valid.

    A set of plain integers that :func:`score` has already scored is valid (it scores only
    valid sets): it is answered from that memo without checking the thirteen items again.
    """
    key = tuple(map(items.get, ITEM_FIELDS))
    if key in _SCORES_MEMO and _PLAIN_ITEM_TYPES.issuperset(map(type, key)):
        return {}
    errors: dict[str, str] = {}
    for field in REQUIRED_ITEM_FIELDS:
        value = items.get(field)
        if value is None:
            errors[field] = f"{ITEM_LABELS[field]}: this item must be scored."
            continue
        message = _item_value_error(field, value)
        if message:
            errors[field] = message

    q5a, q5b = items.get(Q5A), items.get(Q5B)
    for field, value in ((Q5A, q5a), (Q5B, q5b)):
        if value is not None:
            message = _item_value_error(field, value)
            if message:
                errors[field] = message
    if q5a is not None and q5b is not None:
        errors[ALL_ERRORS_KEY] = (
            "Score item 5a (cutting food, no gastrostomy) or item 5b (with "
            "gastrostomy), not both: 5b is only for patients with a gastrostomy."
        )
    elif q5a is None and q5b is None:
        errors[ALL_ERRORS_KEY] = "Score one of item 5a (cutting food, no gastrostomy) or item 5b (with gastrostomy)."
    return errors


def _validated(items: Mapping[str, int | None]) -> dict[str, int]:
    """Return the scored items as a plain dict, or raise ValueError."""
    errors = item_errors(items)
    if errors:
        raise ValueError(" ".join(errors.values()))
    return {field: value for field in ITEM_FIELDS if (value := items.get(field)) is not None}


def _domain_score(scored: Mapping[str, int], domain: str) -> int:
    return sum(scored.get(field, 0) for field in DOMAINS[domain])


# ---------------------------------------------------------------------------
# Staging
# ---------------------------------------------------------------------------


def _kings_stage(scored: Mapping[str, int]) -> str:
    needs_niv = scored["q10_dyspnoea"] == 0 or scored["q12_respiratory_insufficiency"] < 4
    if needs_niv:
        return "4B"
    if Q5B in scored:
        return "4A"
    bulbar = any(scored[field] < MAX_ITEM_SCORE for field in ("q1_speech", "q2_salivation", "q3_swallowing"))
    upper_limb = scored["q4_handwriting"] < MAX_ITEM_SCORE or scored[Q5A] < MAX_ITEM_SCORE
    lower_limb = scored["q8_walking"] < MAX_ITEM_SCORE
    regions = bulbar + upper_limb + lower_limb
    return str(max(regions, 1))


def kings_stage(items: Mapping[str, int | None], deceased: bool = False) -> str:
    """King's clinical stage estimated from ALSFRS-R items (Balendra 2014).

    Rules, in order:

    * ``deceased=True`` → ``"5"`` (death cannot be derived from the items,
      which are then not consulted).
    * Respiratory support: item 10 dyspnoea = 0 or item 12 respiratory
      insufficiency < 4 (any BiPAP/NIV or invasive ventilation) → ``"4B"``.
    * Gastrostomy: item 5b scored instead of 5a → ``"4A"``.
    * Otherwise the number of regions involved, ``"1"`` to ``"3"``:
      bulbar if item 1, 2 or 3 < 4; upper limb if item 4 or 5a < 4;
      lower limb if item 8 walking < 4.

    **Both gastrostomy and respiratory support → "4B".** The mapping gives
    no order for this case, and the proact script only reports "stage 4"
    (it does not split 4A/4B). We report 4B
    because the need for ventilation is the milestone closest to the end of
    the disease course (NIV > 23 h/day is part of the ENCALS composite
    endpoint), and because no information is lost: gastrostomy is kept as its
    own flag (:attr:`AlsfrsrScores.gastrostomy`).

    **No region involved → "1".** The count can be 0 when only items 6, 7, 9,
    10 or 11 are below 4 (e.g. trouble with stairs but not walking). Like the
    proact script we report stage 1: a patient in the registry has been
    diagnosed, so at least one region is clinically involved.

    Raises ValueError if the items are incomplete or invalid.
    """
    if deceased:
        return "5"
    return _kings_stage(_validated(items))


def kings_stage_with_death(items: Mapping[str, int | None], deceased: bool) -> str:
    """Same as ``kings_stage(items, deceased=deceased)``; ``"5"`` when deceased."""
    return kings_stage(items, deceased=deceased)


def _mitos_stage(scored: Mapping[str, int]) -> int:
    movement = scored["q8_walking"] <= 1 or scored["q6_dressing_hygiene"] <= 1
    swallowing = scored["q3_swallowing"] <= 1
    # AND, not OR: communication is lost only when both speech and writing are
    # (JNNP 2015 Table 1). Some public scripts get this wrong.
    communicating = scored["q1_speech"] <= 1 and scored["q4_handwriting"] <= 1
    breathing = scored["q10_dyspnoea"] <= 1 or scored["q12_respiratory_insufficiency"] <= 2
    return movement + swallowing + communicating + breathing


def mitos_stage(items: Mapping[str, int | None], deceased: bool = False) -> int:
    """MiToS stage (Chiò 2015): the number of domains in which independence is lost.

    * Movement: item 8 walking ≤ 1 or item 6 dressing/hygiene ≤ 1.
    * Swallowing: item 3 swallowing ≤ 1.
    * Communicating: item 1 speech ≤ 1 **and** item 4 handwriting ≤ 1.
    * Breathing: item 10 dyspnoea ≤ 1 or item 12 respiratory insufficiency ≤ 2.

    Returns 0-4, or 5 when ``deceased`` (the items are then not consulted).
    Raises ValueError if the items are incomplete or invalid.
    """
    if deceased:
        return 5
    return _mitos_stage(_validated(items))


# ---------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlsfrsrScores:
    """Everything derived from one complete ALSFRS-R assessment."""

    total: int
    bulbar: int
    fine_motor: int
    gross_motor: int
    respiratory: int
    kings_stage: str
    mitos_stage: int
    gastrostomy: bool


_SCORES_MEMO: dict[tuple[int | None, ...], AlsfrsrScores] = {}
_SCORES_MEMO_LIMIT = 100_000
_PLAIN_ITEM_TYPES = frozenset({int, type(None)})


def score(items: Mapping[str, int | None]) -> AlsfrsrScores:
    """Total (0-48), domain subscores (0-12 each) and stages for one assessment.

    ``gastrostomy`` is True when item 5b was scored. Stages assume the patient
    is alive; use :func:`kings_stage`/:func:`mitos_stage` with
    ``deceased=True`` for stage 5. Raises ValueError, with the messages from
    :func:`item_errors`, if the items are incomplete or invalid.

    The scores are a pure function of the thirteen items, and a cohort holds far fewer
    distinct sets of items than assessments: valid sets of plain integers are memoised
    (an import scores a million assessments). Anything else is scored, or refused, afresh.
    """
    key = tuple(map(items.get, ITEM_FIELDS))
    if _PLAIN_ITEM_TYPES.issuperset(map(type, key)):
        scores = _SCORES_MEMO.get(key)
        if scores is None:
            scores = _score(items)
            if len(_SCORES_MEMO) >= _SCORES_MEMO_LIMIT:
                _SCORES_MEMO.clear()
            _SCORES_MEMO[key] = scores
        return scores
    return _score(items)


def _score(items: Mapping[str, int | None]) -> AlsfrsrScores:
    scored = _validated(items)
    domains = {name: _domain_score(scored, name) for name in DOMAINS}
    return AlsfrsrScores(
        total=sum(domains.values()),
        bulbar=domains["bulbar"],
        fine_motor=domains["fine_motor"],
        gross_motor=domains["gross_motor"],
        respiratory=domains["respiratory"],
        kings_stage=_kings_stage(scored),
        mitos_stage=_mitos_stage(scored),
        gastrostomy=Q5B in scored,
    )


# ---------------------------------------------------------------------------
# Progression rate
# ---------------------------------------------------------------------------


def delta_fs(total: int, symptom_onset: date, assessed_on: date) -> float | None:
    """ΔFS, ALSFRS-R points lost per month since symptom onset (Kimura 2006).

    ``(48 - total) / months``, where ``months = days / (365.25 / 12)``.
    Positive: a larger value means faster progression (ENCALS uses the
    negated form). The value is not rounded.

    Returns None when the assessment is on or before the onset date
    (months <= 0): the rate is undefined, and such dates should be queried
    with the site rather than guessed. Raises ValueError if ``total`` is not
    0-48.

    Worked example: total 24 assessed 1461 days (exactly 48 months) after
    onset gives (48 - 24) / 48 = 0.5 points/month.
    """
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= MAX_TOTAL:
        raise ValueError(f"ALSFRS-R total must be a whole number from 0 to 48 (got {total!r}).")
    months = (assessed_on - symptom_onset).days / DAYS_PER_MONTH
    if months <= 0:
        return None
    return (MAX_TOTAL - total) / months


def delta_fs_band(value: float) -> str:
    """Labra 2016 progression band for a ΔFS value: "slow", "intermediate" or "fast".

    slow: < 0.47; intermediate: 0.47 to < 1.11; fast: >= 1.11 (points/month,
    compared unrounded). Raises ValueError for a negative or NaN value, which
    a valid ALSFRS-R total cannot produce.
    """
    if not value >= 0:  # also catches NaN
        raise ValueError(f"\N{GREEK CAPITAL LETTER DELTA}FS cannot be negative (got {value!r}).")
    if value < DELTA_FS_SLOW_BELOW:
        return "slow"
    if value < DELTA_FS_FAST_FROM:
        return "intermediate"
    return "fast"
