"""ALSFRS-R items, validation, totals and domain subscores (registry.scoring)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.scoring import (
    ANSWER_WORDING,
    DOMAINS,
    ITEM_FIELDS,
    ITEM_LABELS,
    AlsfrsrScores,
    item_errors,
    score,
)

pytestmark = pytest.mark.requirement("CLN-01")

Q5A = "q5a_cutting_without_gastrostomy"
Q5B = "q5b_cutting_with_gastrostomy"


def normal_items(**overrides):
    """A complete, all-normal assessment without gastrostomy, with overrides."""
    items = {field: 4 for field in ITEM_FIELDS if field != Q5B}
    items.update(overrides)
    return items


def with_gastrostomy(**overrides):
    """A complete, all-normal assessment scored on item 5b, with overrides."""
    items = normal_items(**{Q5A: None, Q5B: 4})
    items.update(overrides)
    return items


# --- totals and subscores ---------------------------------------------------


def test_all_items_normal_scores_48_with_every_domain_12():
    assert score(normal_items()) == AlsfrsrScores(
        total=48,
        bulbar=12,
        fine_motor=12,
        gross_motor=12,
        respiratory=12,
        kings_stage="1",
        mitos_stage=0,
        gastrostomy=False,
    )


def test_all_items_zero_scores_total_0():
    # given
    items = {field: 0 for field in ITEM_FIELDS if field != Q5A}
    # when
    result = score(items)
    # then
    assert (result.total, result.bulbar, result.fine_motor) == (0, 0, 0)
    assert (result.gross_motor, result.respiratory) == (0, 0)


def test_total_is_the_sum_of_the_twelve_scored_items():
    # given: 4+3+2 | 1+0+4 | 3+2+1 | 0+4+3 = 27
    items = {
        "q1_speech": 4,
        "q2_salivation": 3,
        "q3_swallowing": 2,
        "q4_handwriting": 1,
        Q5A: 0,
        "q6_dressing_hygiene": 4,
        "q7_turning_in_bed": 3,
        "q8_walking": 2,
        "q9_climbing_stairs": 1,
        "q10_dyspnoea": 0,
        "q11_orthopnoea": 4,
        "q12_respiratory_insufficiency": 3,
    }
    # when
    result = score(items)
    # then
    assert result.total == 27
    assert (
        result.bulbar,
        result.fine_motor,
        result.gross_motor,
        result.respiratory,
    ) == (
        9,
        5,
        6,
        7,
    )


def test_bulbar_subscore_is_speech_salivation_and_swallowing():
    result = score(normal_items(q1_speech=3, q2_salivation=2, q3_swallowing=1))

    assert result.bulbar == 6
    assert result.total == 42


def test_fine_motor_subscore_counts_item_5a_without_gastrostomy():
    result = score(normal_items(q4_handwriting=3, **{Q5A: 2}, q6_dressing_hygiene=1))

    assert result.fine_motor == 6
    assert result.gastrostomy is False


def test_fine_motor_subscore_counts_item_5b_with_gastrostomy():
    result = score(with_gastrostomy(q4_handwriting=3, **{Q5B: 1}, q6_dressing_hygiene=2))

    assert result.fine_motor == 6
    assert result.gastrostomy is True


def test_gross_motor_subscore_is_turning_walking_and_stairs():
    result = score(normal_items(q7_turning_in_bed=3, q8_walking=2, q9_climbing_stairs=0))

    assert result.gross_motor == 5


def test_respiratory_subscore_is_dyspnoea_orthopnoea_and_respiratory_insufficiency():
    result = score(normal_items(q10_dyspnoea=3, q11_orthopnoea=2, q12_respiratory_insufficiency=4))

    assert result.respiratory == 9


def test_each_item_belongs_to_exactly_one_domain():
    fields_in_domains = [field for fields in DOMAINS.values() for field in fields]

    assert sorted(fields_in_domains) == sorted(ITEM_FIELDS)
    assert set(DOMAINS) == {"bulbar", "fine_motor", "gross_motor", "respiratory"}


@given(
    scores=st.lists(st.integers(min_value=0, max_value=4), min_size=12, max_size=12),
    gastrostomy=st.booleans(),
)
def test_total_always_equals_sum_of_the_four_domains_and_stays_within_0_to_48(scores, gastrostomy):
    # given: twelve scored items, item 5 as either 5a or 5b
    scored_fields = [f for f in ITEM_FIELDS if f != (Q5A if gastrostomy else Q5B)]
    items = dict(zip(scored_fields, scores, strict=True))
    # when
    result = score(items)
    # then
    assert result.total == result.bulbar + result.fine_motor + result.gross_motor + (result.respiratory)
    assert result.total == sum(scores)
    assert 0 <= result.total <= 48
    for subscore in (
        result.bulbar,
        result.fine_motor,
        result.gross_motor,
        result.respiratory,
    ):
        assert 0 <= subscore <= 12


# --- validation ---------------------------------------------------------------


def test_complete_valid_assessment_has_no_errors():
    assert item_errors(normal_items()) == {}
    assert item_errors(with_gastrostomy()) == {}


def test_item_not_recorded_is_reported_as_required():
    # given
    items = normal_items()
    del items["q8_walking"]
    # when
    errors = item_errors(items)
    # then
    assert errors == {"q8_walking": "8. Walking: this item must be scored."}


def test_item_left_blank_is_reported_as_required():
    errors = item_errors(normal_items(q1_speech=None))

    assert errors == {"q1_speech": "1. Speech: this item must be scored."}


@pytest.mark.parametrize("value", [5, -1, 48])
def test_item_score_outside_0_to_4_is_rejected(value):
    errors = item_errors(normal_items(q3_swallowing=value))

    assert errors == {"q3_swallowing": f"3. Swallowing: the score must be from 0 to 4 (got {value})."}


@pytest.mark.parametrize("value", [3.5, "3", True])
def test_item_score_that_is_not_a_whole_number_is_rejected(value):
    errors = item_errors(normal_items(q10_dyspnoea=value))

    assert errors == {"q10_dyspnoea": "10. Dyspnoea: the score must be a whole number from 0 to 4."}


def test_tick_box_item_is_rejected_even_after_the_same_scores_as_integers_were_scored():
    score(normal_items(q10_dyspnoea=1))  # the valid set of integers is now memoised

    errors = item_errors(normal_items(q10_dyspnoea=True))  # True == 1, and hashes alike

    assert errors == {"q10_dyspnoea": "10. Dyspnoea: the score must be a whole number from 0 to 4."}


def test_scoring_both_5a_and_5b_is_rejected():
    errors = item_errors(normal_items(**{Q5B: 3}))

    assert errors == {
        "__all__": (
            "Score item 5a (cutting food, no gastrostomy) or item 5b (with "
            "gastrostomy), not both: 5b is only for patients with a gastrostomy."
        )
    }


def test_scoring_neither_5a_nor_5b_is_rejected():
    errors = item_errors(normal_items(**{Q5A: None}))

    assert errors == {"__all__": ("Score one of item 5a (cutting food, no gastrostomy) or item 5b (with gastrostomy).")}


def test_out_of_range_5b_is_reported_against_item_5b():
    errors = item_errors(with_gastrostomy(**{Q5B: 7}))

    assert errors == {
        Q5B: ("5b. Cutting food and handling utensils (with gastrostomy): the score must be from 0 to 4 (got 7).")
    }


def test_every_problem_is_reported_at_once():
    errors = item_errors({"q1_speech": 9})

    assert set(errors) == {*ITEM_FIELDS, "__all__"} - {Q5A, Q5B}


def test_fields_that_are_not_alsfrsr_items_are_ignored():
    assert item_errors(normal_items(patient_id=17, notes="seen in clinic")) == {}


def test_score_refuses_invalid_items_with_the_clinician_message():
    with pytest.raises(ValueError, match=r"8\. Walking: the score must be from 0 to 4 \(got 6\)"):
        score(normal_items(q8_walking=6))


# --- labels and wording -------------------------------------------------------


def test_every_item_has_a_label_and_five_answers_from_4_down_to_0():
    assert list(ITEM_LABELS) == list(ITEM_FIELDS)
    assert list(ANSWER_WORDING) == list(ITEM_FIELDS)
    for answers in ANSWER_WORDING.values():
        assert list(answers) == [4, 3, 2, 1, 0]


def test_labels_use_the_form_numbering():
    assert ITEM_LABELS["q1_speech"] == "1. Speech"
    assert ITEM_LABELS[Q5B] == "5b. Cutting food and handling utensils (with gastrostomy)"
    assert ITEM_LABELS["q12_respiratory_insufficiency"] == "12. Respiratory insufficiency"


def test_answer_wording_matches_the_published_form():
    assert ANSWER_WORDING["q1_speech"][4] == "Normal speech processes"
    assert ANSWER_WORDING["q3_swallowing"][3] == "Early eating problems \N{EN DASH} occasional choking"
    assert ANSWER_WORDING[Q5A][0] == "Needs to be fed"
    assert ANSWER_WORDING[Q5B][1] == "Provides minimal assistance to caregiver"
    assert ANSWER_WORDING["q12_respiratory_insufficiency"][0] == (
        "Invasive mechanical ventilation by intubation or tracheostomy"
    )
