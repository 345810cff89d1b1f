"""Every bench run records the host it ran on and a fixed reference workload's CPU time, so that
absolute figures of runs on hosts of different speed can be compared (bench/host.py)."""

from __future__ import annotations

import os
import sys

from bench import host, report_md

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
cpu MHz\t\t: 2449.998
cache size\t: 512 KB

processor\t: 1
model name\t: AMD EPYC 7B13
cpu MHz\t\t: 1996.249
"""


def test_the_cpu_is_read_from_the_first_core_of_cpuinfo():
    assert host.cpu_model(CPUINFO) == ("AMD EPYC 7B13", 2449.998)


def test_a_cpuinfo_without_a_clock_gives_the_model_alone():
    assert host.cpu_model("model name\t: Neoverse-N1\n") == ("Neoverse-N1", None)


def test_the_reference_workload_runs_in_a_fresh_interpreter_and_costs_cpu():
    machine = host.describe(repeats=1)
    assert machine["reference_cpu_s"] > 0.05  # the fixed workload, not an empty interpreter
    assert machine["reference_repeats"] == 1
    assert machine["nproc"] >= 1


def test_the_run_records_which_interpreter_ran_it():
    """Builds of one Python version differ by a quarter in speed: the record names the binary."""
    machine = host.describe(repeats=1)
    assert machine["python_executable"] == os.path.realpath(sys.executable)
    assert os.path.isfile(machine["python_executable"]) and not os.path.islink(machine["python_executable"])


def test_the_report_names_the_host_and_its_reference_time():
    line = report_md.host(
        {
            "nproc": 2,
            "python": "3.11.7",
            "cpu_model": "AMD EPYC",
            "cpu_mhz": 1996.2,
            "reference_cpu_s": 1.126,
            "reference_repeats": 5,
        }
    )
    assert "AMD EPYC, 1,996 MHz" in line
    assert "**1.13 s**" in line


def test_the_report_names_the_interpreter_where_the_run_recorded_it():
    machine = {
        "nproc": 2,
        "python": "3.11.2",
        "python_executable": "/usr/bin/python3.11",
        "cpu_model": "AMD EPYC",
        "cpu_mhz": None,
        "reference_cpu_s": 0.35,
        "reference_repeats": 5,
    }
    assert "Python 3.11.2 (`/usr/bin/python3.11`)" in report_md.host(machine)


def test_a_run_from_before_the_reference_workload_says_its_host_was_not_recorded():
    assert report_md.host({"nproc": 2, "python": "3.11.7"}).startswith("Host: not recorded")


def report_of(date: str, commit: str, startup_run: dict | None) -> dict:
    startup = {"repeats": 5, "wall_s": 0.6, "cpu_s": 0.6, "peak_rss_mb": 87.0, "slowest_imports_ms": {}}
    startup["load_average"] = "1 1 1 -> 1 1 1"
    if startup_run is not None:
        startup["run"] = startup_run
    return {
        "patients": 20000,
        "date_utc": date,
        "commit": commit,
        "machine": {
            "nproc": 2,
            "python": "3.11.7",
            "cpu_model": "x",
            "cpu_mhz": None,
            "reference_cpu_s": 1.1,
            "reference_repeats": 5,
        },
        "load_average_start": "1 1 1",
        "startup": startup,
    }


def test_a_step_kept_from_an_earlier_run_is_labelled_with_that_run():
    earlier = {"date_utc": "2026-12-03 10:00", "commit": "abc1234", "reference_cpu_s": 0.48}
    lines = report_md.section(report_of("2026-12-04 23:00", "def5678", earlier))
    [note] = [line for line in lines if line.startswith("*Kept from an earlier run")]
    assert "2026-12-03 10:00 UTC, commit abc1234, reference workload 0.48 s" in note


def test_a_step_of_the_run_itself_carries_no_such_label():
    this_run = {"date_utc": "2026-12-04 23:00", "commit": "def5678", "reference_cpu_s": 1.1}
    lines = report_md.section(report_of("2026-12-04 23:00", "def5678", this_run))
    assert not any(line.startswith("*Kept from") for line in lines)


def test_a_step_from_a_run_that_did_not_time_the_reference_says_so():
    earlier = {"date_utc": "2026-12-03 10:00", "commit": "abc1234", "reference_cpu_s": None}
    lines = report_md.section(report_of("2026-12-04 23:00", "def5678", earlier))
    assert any("reference workload not recorded" in line for line in lines)


def test_a_partial_rerun_leaves_the_steps_it_skips_labelled_with_their_own_run():
    from bench.run_all import label_earlier_steps

    earlier = {
        "date_utc": "2026-12-03 10:00",
        "commit": "abc1234",
        "machine": {"nproc": 2},
        "survival": {"ratio": 1.1},
        "startup": {
            "wall_s": 0.6,
            "run": {"date_utc": "2026-12-02 09:00", "commit": "0aa0aa0", "reference_cpu_s": 0.5},
        },
    }
    label_earlier_steps(earlier)
    assert earlier["survival"]["run"] == {"date_utc": "2026-12-03 10:00", "commit": "abc1234", "reference_cpu_s": None}
    assert earlier["startup"]["run"]["commit"] == "0aa0aa0"  # already labelled: kept


def test_the_host_line_gives_the_reference_time_before_each_step_the_run_timed_it_for():
    r = {"startup": {"reference_cpu_s": 0.57}, "export": {}, "web": {"reference_cpu_s": 0.76}}
    assert report_md.step_references(r) == " Before each step it took 0.57 s (startup), 0.76 s (web)."


def test_a_run_that_did_not_time_the_steps_adds_nothing_to_the_host_line():
    assert report_md.step_references({"startup": {"wall_s": 0.6}}) == ""
