"""The validation pack: every requirement has a test that proves it, and the run reports each one."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import program_environment
from tests.validation_pack import (
    Requirement,
    load_requirements,
    requirement_status,
    summary_markdown,
    traceability,
    traceability_markdown,
)

pytestmark = pytest.mark.requirement("OPS-05")

TESTS = Path(__file__).resolve().parents[1]
RUN = {
    "finished": "2026-12-03 10:00 UTC",
    "commit": "abc123",
    "database": "postgresql",
    "python": "3.11",
    "tests": "2",
    "outcomes": "1 failed, 1 passed",
}


def _marked_requirements() -> dict[str, set[str]]:
    """Requirement id → test modules naming it in a `requirement(...)` marker."""
    found: dict[str, set[str]] = {}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requirement":
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, set()).add(str(path.relative_to(TESTS)))
    return found


def test_every_requirement_is_proven_by_at_least_one_test():
    marked = _marked_requirements()
    assert [rid for rid in load_requirements() if rid not in marked] == []


def test_every_requirement_marker_names_a_documented_requirement():
    assert sorted(set(_marked_requirements()) - set(load_requirements())) == []


def test_a_requirement_with_one_failing_test_has_failed():
    assert requirement_status(["passed", "failed", "passed"]) == "FAILED"


def test_a_requirement_whose_tests_did_not_run_is_reported_as_not_run():
    assert requirement_status([]) == "not run"


def test_the_matrix_lists_each_test_of_a_requirement_with_its_outcome():
    requirements = {"AUD-01": Requirement("AUD-01", "Audited", "Part 11", "high")}
    rows = traceability(requirements, {"AUD-01": ["t.py::a", "t.py::b"]}, {"t.py::a": "passed", "t.py::b": "failed"})
    matrix = traceability_markdown(rows, RUN)
    assert "- `t.py::a`: passed" in matrix and "- `t.py::b`: failed" in matrix
    assert "| **AUD-01** Audited | high | Part 11 | 2 (1 failed, 1 passed) | FAILED |" in matrix


def test_the_summary_does_not_pass_while_a_requirement_has_no_test():
    requirements = {
        "AUD-01": Requirement("AUD-01", "Audited", "Part 11", "high"),
        "AUD-02": Requirement("AUD-02", "Append-only", "Part 11", "high"),
    }
    rows = traceability(requirements, {"AUD-01": ["t.py::a"]}, {"t.py::a": "passed"})
    summary = summary_markdown(rows, RUN)
    assert "Verdict: **NOT PASSED**" in summary and "Requirements without a test: AUD-02" in summary


def test_a_test_run_writes_the_matrix_with_the_result_of_each_test(tmp_path):
    module = TESTS / "registry_pure" / "test_nhs_number_rules.py"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(module), f"--validation-report={tmp_path}"],
        cwd=TESTS.parent,
        env=program_environment(**{k: v for k, v in os.environ.items() if k == "DJANGO_SETTINGS_MODULE"}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    matrix = (tmp_path / "traceability.md").read_text(encoding="utf-8")
    assert "tests/registry_pure/test_nhs_number_rules.py::" in matrix
    assert "| passed |" in matrix.split("## Tests per requirement")[0]
    assert "AUD-01" in matrix and "not run" in matrix
