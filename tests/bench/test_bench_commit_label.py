"""The commit a `make bench` run names (bench/run_all.py `commit_label`): `-dirty` only when the
code measured differs from the commit, never because of the bench's own outputs, which the run at
one size writes before the run at the next."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.run_all import commit_label


def git(root: Path, *argv: str) -> str:
    command = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.org", *argv]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A work tree at a commit holding code, a bench result and the benchmarks page."""
    for path, text in {
        "registry/services.py": "x = 1\n",
        "bench/results/bench-20000.json": "{}\n",
        "docs/benchmarks.md": "# Benchmarks\n",
        "docs/web.md": "# Web\n",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "measured")
    return tmp_path


def test_a_clean_work_tree_is_named_by_its_commit(repo):
    assert commit_label(repo) == git(repo, "rev-parse", "--short", "HEAD")


def test_the_results_of_an_earlier_size_do_not_make_the_commit_dirty(repo):
    (repo / "bench/results/bench-20000.json").write_text('{"patients": 20000}\n')
    (repo / "bench/results/bench-100000.json").write_text("{}\n")
    (repo / "docs/benchmarks.md").write_text("# Benchmarks\n\nregenerated\n")
    assert commit_label(repo) == git(repo, "rev-parse", "--short", "HEAD")


def test_a_changed_source_file_makes_the_commit_dirty(repo):
    (repo / "registry/services.py").write_text("x = 2\n")
    assert commit_label(repo) == git(repo, "rev-parse", "--short", "HEAD") + "-dirty"


def test_a_changed_document_other_than_the_benchmarks_page_makes_the_commit_dirty(repo):
    (repo / "docs/web.md").write_text("# Web, edited\n")
    assert commit_label(repo).endswith("-dirty")


def test_a_staged_change_makes_the_commit_dirty_alongside_changed_results(repo):
    (repo / "registry/services.py").write_text("x = 3\n")
    git(repo, "add", "registry/services.py")
    (repo / "bench/results/bench-20000.json").write_text('{"patients": 20000}\n')
    assert commit_label(repo).endswith("-dirty")
