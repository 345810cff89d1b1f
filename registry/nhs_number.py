"""NHS number validation, formatting and synthetic test numbers.

Pure functions with no Django imports.

An NHS number is 10 digits; the 10th is a modulus-11 check digit (NHS Data
Dictionary): multiply the first nine digits by the weights 10, 9, ..., 2, sum
them, take the remainder ``r`` of the sum divided by 11, and the check digit is
``11 - r``. A result of 11 means check digit 0; a result of 10 means the
nine digits can never form a valid number.

Numbers made of one repeated digit ("0000000000", "1111111111", ...) are
rejected even though every one of them passes modulus 11: they are typed as
placeholders when the real number is unknown, and are not issued to patients.

Synthetic demo numbers use the 999 prefix, the range the NHS reserves for
test data, so they can never belong to a real patient.
"""

from __future__ import annotations

import random
import re

__all__ = [
    "TEST_NUMBER_PREFIX",
    "check_digit",
    "format_nhs_number",
    "generate_valid_nhs_number",
    "is_valid_nhs_number",
    "nhs_number_error",
    "normalise_nhs_number",
]

TEST_NUMBER_PREFIX = "999"

_SEPARATORS = re.compile(r"[\s-]+")
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_DIGITS = re.compile(r"[0-9]*")
_WEIGHTS = range(10, 1, -1)  # 10, 9, ..., 2 for the first nine digits


def _strip(raw: str) -> str:
    return _SEPARATORS.sub("", raw)


def check_digit(first_nine: str) -> int | None:
    """Modulus-11 check digit for nine digits, or None when no digit can be valid."""
    if len(first_nine) != 9 or not _DIGITS.fullmatch(first_nine):
        raise ValueError("The NHS number check digit needs exactly nine digits.")
    remainder = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_error(raw: str) -> str | None:
    """Return why ``raw`` is not a valid NHS number, or None if it is.

    Spaces and hyphens are ignored ("943 476 5919", "943-476-5919").
    """
    if not isinstance(raw, str):
        return "NHS number must be text of 10 digits."
    digits = _strip(raw)
    if not digits:
        return "NHS number is required."
    if not _DIGITS.fullmatch(digits):
        return "NHS number must contain only digits (spaces and hyphens are allowed)."
    if not _TEN_DIGITS.fullmatch(digits):
        return f"NHS number must have 10 digits (this one has {len(digits)})."
    if len(set(digits)) == 1:
        return "NHS number cannot be one digit repeated; this looks like a placeholder."
    if check_digit(digits[:9]) != int(digits[9]):
        return "NHS number check digit is wrong (modulus 11); check for a typing error."
    return None


def is_valid_nhs_number(raw: str) -> bool:
    """True if ``raw`` (spaces and hyphens allowed) is a valid NHS number."""
    return nhs_number_error(raw) is None


def normalise_nhs_number(raw: str) -> str:
    """Return the valid NHS number as 10 plain digits, or raise ValueError.

    Strips spaces and hyphens, then applies every check of
    :func:`nhs_number_error` (length, digits only, not a repeated digit,
    modulus-11 check digit). The ValueError message is that error.
    """
    error = nhs_number_error(raw)
    if error:
        raise ValueError(error)
    return _strip(raw)


def format_nhs_number(number: str) -> str:
    """Format 10 digits for display as "943 476 5919" (3-3-4, as NHS cards print it).

    Spaces and hyphens in the input are ignored. This only formats: the check
    digit is not verified (use :func:`nhs_number_error`). Raises ValueError if
    the input is not 10 digits.
    """
    digits = _strip(number)
    if not _TEN_DIGITS.fullmatch(digits):
        raise ValueError("NHS number must have 10 digits to be formatted.")
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def generate_valid_nhs_number(rng: random.Random, prefix: str = TEST_NUMBER_PREFIX) -> str:
    """Return a random valid NHS number starting with ``prefix``, for demo data.

    Keep the default 999 prefix (the NHS test range) so that a generated
    number can never identify a real patient. Pass a seeded ``random.Random``
    for reproducible data. Raises ValueError if ``prefix`` is not 0-9 digits
    or cannot start any valid number.
    """
    if len(prefix) > 9 or not _DIGITS.fullmatch(prefix):
        raise ValueError("The prefix must be at most nine digits.")
    # Each random choice of the remaining digits has a 10/11 chance of a
    # usable check digit, so the loop ends quickly; a full nine-digit prefix
    # has only one candidate.
    attempts = 1 if len(prefix) == 9 else 1000
    for _ in range(attempts):
        first_nine = prefix + "".join(rng.choice("0123456789") for _ in range(9 - len(prefix)))
        check = check_digit(first_nine)
        if check is None:
            continue
        number = f"{first_nine}{check}"
        if nhs_number_error(number) is None:
            return number
    raise ValueError(f"No valid NHS number starts with {prefix!r}.")
