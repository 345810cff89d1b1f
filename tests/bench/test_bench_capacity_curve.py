"""The web benchmark's capacity curve (issue 18, item 1): the load test at the listed user counts,
then upwards until p95 of all requests reaches 200 ms, and the paper projection checked against
what this machine measured (bench/run_all.py, bench/report_md.py)."""

from __future__ import annotations

from typing import Any

from bench import report_md
from bench.run_all import capacity, load_curve


def load_run(users: int, p95_ms: int, *, errors: int = 0, busy: float = 0.5) -> dict[str, Any]:
    every = {"p50_ms": p95_ms // 3, "p95_ms": p95_ms, "p99_ms": p95_ms * 2, "req_per_s": users, "errors": errors}
    return {
        "users": users,
        "workers": "4",
        "threads": "1",
        "categories": {"all": every, "view": every, "save": every},
        "endpoints": {},
        "cpu_ms_per_request": {"app": 18.0, "db": 4.0, "locust": 2.0},
        "cpu_busy": busy,
        "load_average_before": "1 1 1",
        "load_average_after": "2 2 2",
    }


def curve_of(p95_by_users: dict[int, int], listed: list[int], *, ceiling: int = 150) -> list[int]:
    """The user counts a curve runs when each count gives the p95 the table says."""
    asked: list[int] = []

    def run(users: int) -> dict[str, Any]:
        asked.append(users)
        return load_run(users, p95_by_users[users])

    load_curve(listed, run, step=20, ceiling=ceiling)
    return asked


def test_the_curve_runs_the_listed_counts_then_steps_up_until_p95_reaches_200_ms():
    assert curve_of({20: 40, 50: 90, 70: 150, 90: 240, 110: 400}, [20, 50]) == [20, 50, 70, 90]


def test_the_curve_stops_at_its_ceiling_when_p95_never_reaches_200_ms():
    assert curve_of({20: 40, 50: 60, 70: 80, 90: 90}, [20, 50], ceiling=90) == [20, 50, 70, 90]


def test_the_curve_does_not_step_up_past_a_listed_count_already_over_200_ms():
    assert curve_of({20: 60, 50: 250}, [20, 50]) == [20, 50]


def test_a_run_with_failed_requests_counts_as_past_the_capacity():
    asked: list[int] = []

    def run(users: int) -> dict[str, Any]:
        asked.append(users)
        return load_run(users, 120, errors=3 if users == 70 else 0)

    load_curve([20, 50], run, step=20, ceiling=150)
    assert asked == [20, 50, 70]


def test_the_capacity_lies_between_the_highest_count_under_200_ms_and_the_next_count_over():
    runs = [load_run(20, 40), load_run(50, 90), load_run(70, 180), load_run(90, 260)]
    result = capacity(runs)
    assert (result["highest_users_p95_under_200ms"], result["lowest_users_p95_over_200ms"]) == (70, 90)


def test_the_projection_checked_here_adds_the_load_generators_cpu_to_each_request():
    result = capacity([load_run(20, 40), load_run(50, 90)])
    # 22 ms of app and database a request on 2 cores: 0.7 × 2000 / 22 × 1.1 = 70 users; with
    # locust's 2 ms as well, 0.7 × 2000 / 24 × 1.1 = 64 users on this machine
    assert result["projection"]["2"]["users_at_70pct"] == 70
    assert result["projection_check"] == {"cpu_ms_per_request_with_locust": 24.0, "users_at_70pct": 64}


def test_the_report_states_the_bracket_and_how_busy_the_cores_were_on_either_side():
    runs = [load_run(20, 40, busy=0.3), load_run(50, 90, busy=0.62), load_run(70, 260, busy=0.91)]
    text = "\n".join(report_md.web({"runs": runs, "ceiling": 150, **capacity(runs)}))
    assert "**50** (of 20, 50, 70); at **70** users p95 reached 200 ms" in text
    assert "**64 users** at 70 % of 2 cores" in text
    assert "at 50 users p95 stayed under 200 ms (90 ms, the cores 62% busy)" in text
    assert "at 70 users p95 reached 200 ms (260 ms, the cores 91% busy)" in text


def test_a_curve_that_reached_its_ceiling_says_the_capacity_was_not_found():
    runs = [load_run(20, 40), load_run(50, 90)]
    text = "\n".join(report_md.web({"runs": runs, "ceiling": 50, **capacity(runs)}))
    assert "p95 stayed under 200 ms up to the curve's ceiling of 50 users" in text


def test_an_earlier_run_without_a_curve_says_its_capacity_is_only_a_lower_bound():
    runs = [load_run(20, 40), load_run(50, 90)]
    earlier = {"runs": runs, "highest_users_p95_under_200ms": 50, "projection": {}, "cpu_ms_per_request_min": 22.0}
    text = "\n".join(report_md.web(earlier))
    assert "the curve stopped before p95 reached 200 ms, so the capacity is at least that" in text


def test_the_endpoints_are_listed_at_the_targets_50_users_not_at_the_saturated_end_of_the_curve():
    runs = [load_run(20, 40), load_run(50, 90), load_run(70, 260)]
    text = "\n".join(report_md.web({"runs": runs, "ceiling": 150, **capacity(runs)}))
    assert "Per endpoint at 50 users" in text
