"""An export ratio just under the target is shown with the digit that decides it
(bench/report_md.py): 0.798 is not met, and the page must not read "0.80 ×, not met"."""

from __future__ import annotations

from bench import report_md


def test_a_ratio_just_under_the_target_shows_the_digit_that_fails_it():
    export = {"tables": {"alsfrs_r": {"ratio": 0.798, "ours": {"wall_s": 2.152}, "copy": {"wall_s": 1.717}}}}

    [row] = [line for line in report_md.targets({"export": export}) if "export `alsfrs_r`" in line]

    assert "| 0.798 × (2.15 s against 1.72 s) | **not met** |" in row
