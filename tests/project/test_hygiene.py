"""Checked hygiene (docs/architecture.md, "Checked in CI"): bounded complexity, no broad except
that swallows an error, no module a reader cannot hold in their head.

`make lint` runs ruff with the rules configured in pyproject.toml; these tests keep the
configuration from losing them, and catch what ruff's BLE001 lets through (`contextlib.suppress`
of every exception, a `noqa` without its reason).
"""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_COMPLEXITY = 12
MAX_MODULE_LINES = 500
BROAD = frozenset({"Exception", "BaseException"})


def ruff_settings() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["ruff"]


def tracked_python() -> list[Path]:
    """The project's Python files: those git tracks, or (outside a checkout) every one but the
    virtualenv's and generated trees'."""
    try:
        listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        skipped = {".venv", "venv", "node_modules", "var", "staticfiles"}
        return [
            p
            for p in sorted(ROOT.rglob("*.py"))
            if not skipped & set(p.relative_to(ROOT).parts) and ".git" not in p.parts
        ]
    return [ROOT / name for name in listed.stdout.split() if (ROOT / name).exists()]


def app_modules() -> list[Path]:
    return [p for p in tracked_python() if p.relative_to(ROOT).parts[0] != "tests" and "migrations" not in p.parts]


def test_ruff_selects_the_complexity_bound_and_the_broad_except_rule():
    lint = ruff_settings()["lint"]
    selected = set(lint["select"])
    assert {"C90", "C901"} & selected, "C901 (complexity) must be selected"
    assert {"BLE", "BLE001"} & selected, "BLE001 (blind except) must be selected"
    assert "E" in selected or "E722" in selected, "E722 (bare except) must be selected"
    assert not {"C90", "C901", "BLE", "BLE001", "E722"} & set(lint.get("ignore", []))
    assert lint["mccabe"]["max-complexity"] <= MAX_COMPLEXITY


def test_no_file_is_exempted_from_the_complexity_bound_or_the_broad_except_rule():
    exempted = {
        pattern: rules
        for pattern, rules in ruff_settings()["lint"].get("per-file-ignores", {}).items()
        if {"C90", "C901", "BLE", "BLE001", "E722"} & set(rules)
    }
    assert exempted == {}


def broad(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind] if kind is not None else []
    return kind is None or any(isinstance(n, ast.Name) and n.id in BROAD for n in names)


def reports(body: list[ast.stmt]) -> bool:
    """Re-raises, logs the traceback (`log.exception(...)`, `exc_info=`) or hands it on
    (`traceback.format_exc()`, as an import worker does to its parent): the error is not lost."""
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Call):
            if getattr(node.func, "attr", None) in ("exception", "format_exc"):
                return True
            if any(keyword.arg == "exc_info" for keyword in node.keywords):
                return True
    return False


def suppresses_everything(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "suppress"
        and any(isinstance(a, ast.Name) and a.id in BROAD for a in node.args)
    )


def swallowing(source: str) -> list[int]:
    """Lines of broad excepts that neither re-raise nor log the traceback, and of
    `suppress(Exception)`, `suppress(BaseException)`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ExceptHandler | ast.Call)
        and (
            (isinstance(node, ast.ExceptHandler) and broad(node) and not reports(node.body))
            or suppresses_everything(node)
        )
    ]


@pytest.mark.parametrize("path", app_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_broad_except_swallows_an_error(path):
    assert swallowing(path.read_text(encoding="utf-8")) == []


def test_a_broad_except_noqa_states_its_reason():
    unexplained = []
    for path in app_modules():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"noqa:[^#]*\bBLE001\b", line) and not re.search(r"BLE001\S*\s+-\s+\S", line):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}")
    assert unexplained == []


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("try:\n    go()\nexcept Exception:\n    pass\n", [3]),
        ("try:\n    go()\nexcept:\n    count += 1\n", [3]),
        ("try:\n    go()\nexcept (ValueError, BaseException) as e:\n    log.warning('%s', e)\n", [3]),
        ("with contextlib.suppress(Exception):\n    go()\n", [1]),
        ("try:\n    go()\nexcept Exception:\n    log.exception('failed')\n    mark_failed()\n", []),
        ("try:\n    go()\nexcept Exception as e:\n    raise Refused(str(e)) from e\n", []),
        ("try:\n    go()\nexcept BaseException:\n    queue.put(traceback.format_exc())\n", []),
        ("try:\n    go()\nexcept ValueError:\n    pass\n", []),
    ],
    ids=["pass", "bare", "tuple, warning only", "suppress", "logged traceback", "re-raised", "handed on", "narrow"],
)
def test_the_check_tells_a_swallowing_except_from_one_that_reports(source, lines):
    assert swallowing(source) == lines


@pytest.mark.parametrize("path", app_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_outside_tests_and_migrations_exceeds_500_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES
