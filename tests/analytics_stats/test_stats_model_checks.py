"""Events per variable: warn below 10 and drop the lowest-priority covariates."""

from __future__ import annotations

from analytics.stats import events_per_variable

PLAN = ["age", "male", "bulbar", "duration", "delay", "dfs", "svc", "log_pnfh"]


def test_enough_events_keep_the_whole_model():
    check = events_per_variable(200, PLAN, forced=["treated"])
    assert check.kept == ("treated", *PLAN) and not check.reduced and not check.warning


def test_too_few_events_drop_the_last_covariates_of_the_plan_and_say_so():
    check = events_per_variable(42, PLAN, forced=["treated"])
    assert check.kept == ("treated", "age", "male", "bulbar")
    assert check.dropped == ("duration", "delay", "dfs", "svc", "log_pnfh")
    assert check.epv_kept >= 10 and check.reduced
    assert "drops duration" in check.warning
    assert "low_events_per_variable" in [c.code for c in check.caveats]


def test_forced_covariates_stay_even_below_the_threshold():
    check = events_per_variable(5, PLAN, forced=["treated"])
    assert check.kept == ("treated",)
    assert check.dropped == tuple(PLAN)
    assert check.epv_kept == 5


def test_the_warning_names_the_threshold_when_only_forced_covariates_were_asked():
    check = events_per_variable(5, [], forced=["treated"])
    assert "below 10" in check.warning
