"""`bench/report_md.py` rewrites only its generated section of docs/benchmarks.md: the hand-written
parts around it (how to run, what remains, the link to the archive of earlier measurements) stay
as written, and the links between the benchmark pages lead to existing sections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import report_md

ROOT = Path(report_md.__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout of its own: report_md reads its results and writes its page there."""
    (tmp_path / "bench" / "results").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(report_md, "ROOT", tmp_path)
    monkeypatch.setattr(report_md, "DOC", tmp_path / "docs" / "benchmarks.md")
    return tmp_path


def test_the_text_around_the_generated_section_is_kept_byte_for_byte(checkout):
    before = "# Benchmarks\n\nHow to run: `make bench`.\n\n"
    after = "\n\n## What remains\n\n- See [the archive](benchmarks-archive.md).\n"
    page = checkout / "docs" / "benchmarks.md"
    page.write_text(f"{before}{report_md.BEGIN}\n\nfigures of an earlier run\n\n{report_md.END}{after}")
    result = (ROOT / "bench" / "results" / "bench-20000.json").read_text()  # a real run's figures
    (checkout / "bench" / "results" / "bench-20000.json").write_text(result)

    report_md.main()

    text = page.read_text()
    assert text.startswith(before + report_md.BEGIN)
    assert text.endswith(report_md.END + after)
    assert "figures of an earlier run" not in text
    assert text.count(report_md.BEGIN) == text.count(report_md.END) == 1


def github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.lstrip("#").strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", ["benchmarks.md", "benchmarks-archive.md"])
def test_every_link_between_the_benchmark_pages_leads_to_a_page_and_section_that_exist(page):
    links = re.findall(r"\]\((benchmarks[\w-]*\.md)(?:#([\w-]+))?\)", (DOCS / page).read_text())
    assert links
    for target, anchor in links:
        headings = [line for line in (DOCS / target).read_text().splitlines() if line.startswith("#")]
        assert not anchor or anchor in {github_anchor(h) for h in headings}, (target, anchor)
