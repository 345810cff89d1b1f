"""axe-core in the browser tests: the copy bundled in the axe-playwright-python wheel (pinned in
requirements-dev.txt), injected with page.evaluate, so no CDN and no change to the page's CSP."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

#: WCAG 2.0, 2.1 and 2.2, levels A and AA (axe-core's rule tags).
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_AXE = Axe()


def axe_violations(page: Any) -> list[str]:
    """One line per WCAG 2.2 A/AA rule the page breaks: rule id, impact and the first offending nodes."""
    options = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}
    results = _AXE.run(page, options=options).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"]
    ]


def horizontal_overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))
