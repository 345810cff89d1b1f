"""King's and MiToS stages estimated from ALSFRS-R items (registry.scoring)."""

import pytest

from registry.scoring import (
    ITEM_FIELDS,
    KINGS_STAGES,
    MITOS_STAGES,
    kings_stage,
    kings_stage_with_death,
    mitos_stage,
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


# --- King's: regions ----------------------------------------------------------


def test_kings_no_region_involved_is_reported_as_stage_1():
    assert kings_stage(normal_items()) == "1"


@pytest.mark.parametrize(
    "affected",
    [
        {"q6_dressing_hygiene": 2},
        {"q7_turning_in_bed": 2},
        {"q9_climbing_stairs": 3},
        {"q10_dyspnoea": 1},
        {"q11_orthopnoea": 0},
    ],
)
def test_kings_items_outside_the_three_regions_give_stage_1_not_0(affected):
    # Stairs, dressing, turning and breathlessness without NIV involve no
    # King's region; a diagnosed patient is reported as stage 1.
    assert kings_stage(normal_items(**affected)) == "1"


@pytest.mark.parametrize("bulbar_item", ["q1_speech", "q2_salivation", "q3_swallowing"])
def test_kings_any_bulbar_item_below_four_counts_bulbar_region(bulbar_item):
    assert kings_stage(normal_items(q8_walking=3, **{bulbar_item: 3})) == "2"


def test_kings_handwriting_below_four_counts_upper_limb_region():
    assert kings_stage(normal_items(q8_walking=3, q4_handwriting=3)) == "2"


def test_kings_cutting_food_5a_below_four_counts_upper_limb_region():
    assert kings_stage(normal_items(q8_walking=3, **{Q5A: 3})) == "2"


def test_walking_below_four_counts_lower_limb_region_for_kings():
    assert kings_stage(normal_items(q1_speech=3, q8_walking=3)) == "2"


def test_kings_several_items_in_one_region_count_as_one_region():
    items = normal_items(q1_speech=1, q2_salivation=2, q3_swallowing=0)

    assert kings_stage(items) == "1"


def test_kings_bulbar_and_upper_limb_involvement_is_stage_2():
    assert kings_stage(normal_items(q1_speech=3, q4_handwriting=2)) == "2"


def test_kings_all_three_regions_involved_is_stage_3():
    assert kings_stage(normal_items(q2_salivation=3, **{Q5A: 2}, q8_walking=1)) == "3"


# --- King's: stage 4 and 5 ----------------------------------------------------


def test_kings_gastrostomy_is_stage_4a_whatever_the_regions():
    assert kings_stage(with_gastrostomy()) == "4A"
    assert kings_stage(with_gastrostomy(q1_speech=2, q4_handwriting=2, q8_walking=2)) == "4A"


@pytest.mark.parametrize("respiratory_insufficiency", [3, 2, 1, 0])
def test_kings_any_bipap_or_ventilation_is_stage_4b(respiratory_insufficiency):
    items = normal_items(q12_respiratory_insufficiency=respiratory_insufficiency)

    assert kings_stage(items) == "4B"


def test_kings_dyspnoea_zero_considering_ventilation_is_stage_4b():
    assert kings_stage(normal_items(q10_dyspnoea=0)) == "4B"


def test_kings_dyspnoea_at_rest_without_niv_is_not_stage_4():
    assert kings_stage(normal_items(q10_dyspnoea=1, q8_walking=3)) == "1"


def test_kings_gastrostomy_and_niv_together_is_reported_as_4b():
    # NIV is the later milestone; gastrostomy is still kept on the scores.
    items = with_gastrostomy(q12_respiratory_insufficiency=2)

    result = score(items)

    assert result.kings_stage == "4B"
    assert result.gastrostomy is True


def test_kings_death_is_stage_5():
    assert kings_stage(normal_items(), deceased=True) == "5"
    assert kings_stage_with_death(normal_items(), deceased=True) == "5"


def test_kings_death_is_stage_5_without_a_final_assessment():
    assert kings_stage({}, deceased=True) == "5"


def test_kings_with_death_helper_returns_item_stage_while_alive():
    assert kings_stage_with_death(with_gastrostomy(), deceased=False) == "4A"


def test_kings_stage_refuses_incomplete_items():
    with pytest.raises(ValueError, match=r"8\. Walking: this item must be scored"):
        kings_stage(normal_items(q8_walking=None))


def test_kings_stage_codes_are_the_choice_values():
    assert [code for code, _ in KINGS_STAGES] == ["1", "2", "3", "4A", "4B", "5"]


# --- MiToS --------------------------------------------------------------------


def test_mitos_impairment_without_loss_of_independence_is_stage_0():
    items = normal_items(
        q1_speech=2,
        q3_swallowing=2,
        q6_dressing_hygiene=2,
        q8_walking=2,
        q10_dyspnoea=2,
    )

    assert mitos_stage(items) == 0


@pytest.mark.parametrize("walking", [1, 0])
def test_mitos_movement_lost_when_walking_is_one_or_less(walking):
    assert mitos_stage(normal_items(q8_walking=walking)) == 1


@pytest.mark.parametrize("dressing", [1, 0])
def test_mitos_movement_lost_when_dressing_and_hygiene_is_one_or_less(dressing):
    assert mitos_stage(normal_items(q6_dressing_hygiene=dressing)) == 1


def test_mitos_movement_lost_by_walking_and_dressing_counts_once():
    assert mitos_stage(normal_items(q8_walking=0, q6_dressing_hygiene=0)) == 1


@pytest.mark.parametrize(("swallowing", "stage"), [(2, 0), (1, 1), (0, 1)])
def test_mitos_swallowing_lost_when_swallowing_is_one_or_less(swallowing, stage):
    assert mitos_stage(normal_items(q3_swallowing=swallowing)) == stage


def test_mitos_communicating_needs_both_speech_and_handwriting_lost():
    assert mitos_stage(normal_items(q1_speech=1, q4_handwriting=1)) == 1


def test_mitos_losing_speech_alone_does_not_lose_communicating():
    assert mitos_stage(normal_items(q1_speech=0, q4_handwriting=2)) == 0


def test_mitos_losing_handwriting_alone_does_not_lose_communicating():
    assert mitos_stage(normal_items(q1_speech=2, q4_handwriting=0)) == 0


@pytest.mark.parametrize(("dyspnoea", "stage"), [(2, 0), (1, 1), (0, 1)])
def test_mitos_breathing_lost_when_dyspnoea_is_one_or_less(dyspnoea, stage):
    assert mitos_stage(normal_items(q10_dyspnoea=dyspnoea)) == stage


@pytest.mark.parametrize(("respiratory_insufficiency", "stage"), [(3, 0), (2, 1), (0, 1)])
def test_mitos_breathing_lost_when_bipap_used_continuously_at_night_or_more(respiratory_insufficiency, stage):
    items = normal_items(q12_respiratory_insufficiency=respiratory_insufficiency)

    assert mitos_stage(items) == stage


def test_mitos_orthopnoea_does_not_count_towards_breathing():
    assert mitos_stage(normal_items(q11_orthopnoea=0)) == 0


def test_mitos_all_four_domains_lost_is_stage_4():
    items = normal_items(q8_walking=1, q3_swallowing=1, q1_speech=1, q4_handwriting=1)
    items["q12_respiratory_insufficiency"] = 2

    assert mitos_stage(items) == 4


def test_mitos_two_domains_lost_is_stage_2():
    assert mitos_stage(normal_items(q3_swallowing=0, q10_dyspnoea=1)) == 2


def test_mitos_death_is_stage_5():
    assert mitos_stage(normal_items(), deceased=True) == 5


def test_score_reports_the_mitos_stage():
    assert score(normal_items(q3_swallowing=1, q6_dressing_hygiene=0)).mitos_stage == 2


def test_mitos_stage_refuses_invalid_items():
    with pytest.raises(ValueError, match="not both"):
        mitos_stage(normal_items(**{Q5B: 4}))


def test_mitos_stage_values_are_the_choice_values():
    assert [stage for stage, _ in MITOS_STAGES] == [0, 1, 2, 3, 4, 5]
