"""ΔFS progression rate and Labra bands (registry.scoring)."""

from datetime import date, timedelta

import pytest

from registry.scoring import DELTA_FS_BANDS, delta_fs, delta_fs_band

pytestmark = pytest.mark.requirement("CLN-01")

ONSET = date(2023, 1, 1)


def test_delta_fs_worked_example_38_at_ten_months_is_about_one_point_per_month():
    # given: 10 points lost; 1 Jan to 1 Nov is 304 days = 9.99 months
    assessed_on = date(2023, 11, 1)
    # when
    rate = delta_fs(38, ONSET, assessed_on)
    # then
    assert rate == pytest.approx(10 / (304 / 30.4375))
    assert rate == pytest.approx(1.0, abs=0.002)


def test_delta_fs_counts_months_as_days_over_365_25_divided_by_12():
    # 1461 days (four years including a leap day) is exactly 48 months
    assessed_on = ONSET + timedelta(days=1461)

    assert delta_fs(24, ONSET, assessed_on) == 0.5


def test_delta_fs_is_zero_when_no_points_lost():
    assert delta_fs(48, ONSET, date(2024, 1, 1)) == 0.0


def test_delta_fs_is_undefined_when_assessed_on_the_onset_date():
    assert delta_fs(40, ONSET, ONSET) is None


def test_delta_fs_is_undefined_when_assessed_before_onset():
    assert delta_fs(40, ONSET, date(2022, 12, 1)) is None


@pytest.mark.parametrize("total", [49, -1])
def test_delta_fs_refuses_a_total_outside_0_to_48(total):
    with pytest.raises(ValueError, match="ALSFRS-R total must be a whole number from 0 to 48"):
        delta_fs(total, ONSET, date(2024, 1, 1))


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.0, "slow"),
        (0.46, "slow"),
        (0.47, "intermediate"),
        (1.10, "intermediate"),
        (1.11, "fast"),
        (3.5, "fast"),
    ],
)
def test_labra_bands_slow_below_047_fast_from_111(value, band):
    assert delta_fs_band(value) == band


def test_delta_fs_band_refuses_a_negative_rate():
    with pytest.raises(ValueError, match="cannot be negative"):
        delta_fs_band(-0.1)


def test_delta_fs_band_keys_are_the_choice_values():
    assert [key for key, _ in DELTA_FS_BANDS] == ["slow", "intermediate", "fast"]
