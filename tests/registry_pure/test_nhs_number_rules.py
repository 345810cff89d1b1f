"""NHS number modulus-11 checks, formatting and demo numbers (registry.nhs_number)."""

import random

import pytest

from registry.nhs_number import (
    check_digit,
    format_nhs_number,
    generate_valid_nhs_number,
    is_valid_nhs_number,
    nhs_number_error,
    normalise_nhs_number,
)

pytestmark = pytest.mark.requirement("DAT-07")


@pytest.mark.parametrize("number", ["9434765919", "9434765870", "4010232137"])
def test_known_valid_nhs_numbers_pass(number):
    assert nhs_number_error(number) is None
    assert is_valid_nhs_number(number) is True


def test_check_digit_is_11_minus_remainder_of_weighted_sum():
    # 9*10 + 4*9 + 3*8 + 4*7 + 7*6 + 6*5 + 5*4 + 9*3 + 1*2 = 299; 299 % 11 = 2
    assert check_digit("943476591") == 9


def test_check_digit_of_11_is_written_as_0():
    assert check_digit("943476508") == 0
    assert is_valid_nhs_number("9434765080") is True


def test_nine_digits_giving_check_digit_10_can_never_be_valid():
    assert check_digit("943476503") is None
    assert not any(is_valid_nhs_number(f"943476503{last}") for last in range(10))


def test_wrong_check_digit_is_rejected_as_a_typing_error():
    assert nhs_number_error("9434765918") == ("NHS number check digit is wrong (modulus 11); check for a typing error.")


def test_swapped_digits_are_caught_by_the_check_digit():
    assert is_valid_nhs_number("4934765919") is False


@pytest.mark.parametrize("raw", ["943 476 5919", "943-476-5919", " 9434765919 "])
def test_spaces_and_hyphens_are_ignored(raw):
    assert is_valid_nhs_number(raw) is True
    assert normalise_nhs_number(raw) == "9434765919"


@pytest.mark.parametrize(("raw", "count"), [("943476591", 9), ("94347659190", 11)])
def test_nhs_number_must_have_10_digits(raw, count):
    assert nhs_number_error(raw) == f"NHS number must have 10 digits (this one has {count})."


def test_letters_are_rejected():
    assert nhs_number_error("943476591A") == ("NHS number must contain only digits (spaces and hyphens are allowed).")


def test_blank_nhs_number_is_reported_as_required():
    assert nhs_number_error("  ") == "NHS number is required."


@pytest.mark.parametrize("digit", "0123456789")
def test_one_digit_repeated_is_rejected_as_a_placeholder(digit):
    # given: every repeated-digit number passes modulus 11 ...
    number = digit * 10
    assert check_digit(number[:9]) == int(digit)
    # then: ... but it is a placeholder, not an issued number
    assert nhs_number_error(number) == ("NHS number cannot be one digit repeated; this looks like a placeholder.")


def test_normalise_raises_the_same_message_for_an_invalid_number():
    with pytest.raises(ValueError, match=r"check digit is wrong \(modulus 11\)"):
        normalise_nhs_number("943 476 5918")


def test_format_groups_digits_3_3_4():
    assert format_nhs_number("9434765919") == "943 476 5919"


def test_format_accepts_an_already_spaced_number():
    assert format_nhs_number("943-476 5919") == "943 476 5919"


def test_format_refuses_anything_but_10_digits():
    with pytest.raises(ValueError, match="must have 10 digits"):
        format_nhs_number("94347659")


def test_generated_demo_numbers_are_valid_and_in_the_999_test_range():
    rng = random.Random(20250515)

    numbers = [generate_valid_nhs_number(rng) for _ in range(200)]

    assert all(is_valid_nhs_number(number) for number in numbers)
    assert all(number.startswith("999") for number in numbers)
    assert len(set(numbers)) == 200


def test_generated_demo_numbers_repeat_for_the_same_seed():
    first = [generate_valid_nhs_number(random.Random(7)) for _ in range(3)]

    assert first == [generate_valid_nhs_number(random.Random(7)) for _ in range(3)]


def test_generator_honours_a_custom_prefix():
    assert generate_valid_nhs_number(random.Random(1), prefix="943476591") == "9434765919"


def test_generator_refuses_a_prefix_that_cannot_start_a_valid_number():
    with pytest.raises(ValueError, match="No valid NHS number starts with '943476503'"):
        generate_valid_nhs_number(random.Random(1), prefix="943476503")


def test_generator_refuses_a_prefix_that_is_not_digits():
    with pytest.raises(ValueError, match="at most nine digits"):
        generate_valid_nhs_number(random.Random(1), prefix="99A")
