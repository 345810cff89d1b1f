"""E-values (VanderWeele & Ding, Ann Intern Med 2017) for risk ratios, hazard ratios and SMRs."""

from __future__ import annotations

import math

import pytest

from analytics.stats import e_value
from analytics.stats.evalue import hr_to_rr, is_common

pytestmark = pytest.mark.requirement("STA-04")


def test_risk_ratio_example_of_the_paper():
    # VanderWeele & Ding 2017: RR 3.9 (95% CI 1.8-8.7) gives E-values 7.26 and 3.02.
    res = e_value(3.9, 1.8, 8.7, measure="rr")
    assert res.e_value == pytest.approx(7.26, abs=0.005)
    assert res.e_value_ci == pytest.approx(3.0, abs=0.02)


def test_protective_estimates_use_the_inverse_ratio():
    assert e_value(0.5, 0.3, 0.8, measure="rr").e_value == pytest.approx(e_value(2.0, 1.25, 3.3, measure="rr").e_value)


def test_the_ci_e_value_uses_the_limit_closest_to_one():
    res = e_value(0.5, 0.3, 0.8, measure="rr")
    assert res.e_value_ci == pytest.approx(1 / 0.8 + math.sqrt(1 / 0.8 * (1 / 0.8 - 1)))


def test_a_ci_that_includes_one_has_e_value_one():
    assert e_value(0.81, 0.54, 1.22).e_value_ci == 1.0


def test_common_outcome_hazard_ratio_is_converted_before_the_e_value():
    hr = 0.52
    rr = (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
    res = e_value(hr, 0.30, 0.89, measure="hr", common_outcome=True)
    assert res.rr == pytest.approx(rr)
    assert res.e_value == pytest.approx(1 / rr + math.sqrt(1 / rr * (1 / rr - 1)))


def test_rare_outcome_hazard_ratio_is_read_as_a_risk_ratio():
    assert hr_to_rr(0.52, common_outcome=False) == 0.52


def test_death_over_640_days_in_als_is_a_common_outcome():
    assert is_common(0.45) and not is_common(0.10)


def test_an_smr_of_zero_has_an_infinite_e_value_and_serialises():
    res = e_value(0.0, 0.0, 0.4, measure="smr")
    assert math.isinf(res.e_value)
    assert res.to_dict()["e_value"] is None


def test_e_value_refuses_an_estimate_outside_its_interval():
    with pytest.raises(ValueError, match="ci_lower <= estimate <= ci_upper"):
        e_value(2.0, 0.5, 1.5)
