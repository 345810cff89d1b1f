"""Reading a digitised benchmark arm from its documented files (no Django; the command stores it).

A benchmark is a directory holding ``metadata.json`` and the CSV files it names:

``survival.csv`` (required)
    header ``day,survival``; one row per digitised point of the published Kaplan-Meier curve,
    days from randomisation, survival as a proportion in (0, 1], never increasing.
``at_risk.csv`` (optional, strongly recommended)
    header ``day,at_risk``; the numbers at risk printed under the figure, starting at day 0.

``metadata.json`` keys: ``code``, ``label``, ``trial``, ``arm``, ``stratum`` (all, below_750, low,
high), ``survival_csv``, ``at_risk_csv`` (optional), ``total_events`` (optional), ``citation``,
``doi`` (the primary publication), ``figure`` (figure, table or page), ``digitised_by``,
``digitised_on`` (ISO date), ``provenance`` (confirmed, secondary, unconfirmed, reconstructed),
``secondary_sources`` (list; each is stored labelled "secondary"), ``test_only`` (true for
synthetic test arms, whose label is then prefixed "TEST").

Rules: a DOI is required unless ``test_only``; a forum or a news aggregator is never a source;
every problem is reported with its file and row, nothing is coerced.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analytics.benchmark_spec import forum_or_aggregator

REQUIRED = ("code", "label", "trial", "arm", "stratum", "survival_csv", "citation", "figure", "digitised_by")
PROVENANCE = ("confirmed", "secondary", "unconfirmed", "reconstructed")
STRATA = ("all", "below_750", "low", "high")
DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
TEST_PREFIX = "TEST (synthetic arm, not a trial result): "


class BenchmarkFileError(ValueError):
    """Every problem found in a benchmark's files, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class DigitisedBenchmark:
    """What the files say, checked: ready for `analytics.survival.services.benchmark_revise`."""

    code: str
    fields: dict[str, Any] = field(default_factory=dict)


def _rows(path: Path, header: tuple[str, str], problems: list[str]) -> list[tuple[float, float]]:
    if not path.is_file():
        problems.append(f"{path.name}: file not found")
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        head = next(reader, None)
        if head is None or tuple(h.strip() for h in head) != header:
            problems.append(f"{path.name}: the header must be {','.join(header)}")
            return []
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                a, b = (float(v) for v in row)
            except ValueError:
                problems.append(f"{path.name} row {line}: two numbers expected, got {row!r}")
                continue
            if not (math.isfinite(a) and math.isfinite(b)):
                problems.append(f"{path.name} row {line}: values must be finite")
                continue
            rows.append((a, b))
    return rows


def _check_curve(points: list[tuple[float, float]], name: str, problems: list[str]) -> None:
    for i, (day, s) in enumerate(points):
        if day < 0 or not 0 < s <= 1:
            problems.append(f"{name} row {i + 2}: day must be >= 0 and survival in (0, 1]")
        if i and (day <= points[i - 1][0] or s > points[i - 1][1]):
            problems.append(f"{name} row {i + 2}: days must increase and survival must not increase")
    if len(points) < 2:
        problems.append(f"{name}: a digitised curve needs at least two points")


def _check_risk(rows: list[tuple[float, float]], name: str, problems: list[str]) -> None:
    if rows and rows[0][0] != 0:
        problems.append(f"{name}: the risk table starts at day 0")
    for i, (day, n) in enumerate(rows):
        if n != int(n) or n < 0:
            problems.append(f"{name} row {i + 2}: the number at risk is a whole number >= 0")
        if i and (day <= rows[i - 1][0] or n > rows[i - 1][1]):
            problems.append(f"{name} row {i + 2}: days must increase and numbers at risk must not increase")


def _check_metadata(meta: dict[str, Any], problems: list[str]) -> None:
    missing = [k for k in REQUIRED if not meta.get(k)]
    if missing:
        problems.append(f"metadata.json: missing {', '.join(missing)}")
    test = bool(meta.get("test_only", False))
    if not test and not DOI_PATTERN.match(str(meta.get("doi", ""))):
        problems.append("metadata.json: doi must be the primary publication's DOI (10.xxxx/...)")
    if meta.get("provenance", "reconstructed") not in PROVENANCE:
        problems.append(f"metadata.json: provenance must be one of {', '.join(PROVENANCE)}")
    if meta.get("stratum") not in STRATA:
        problems.append(f"metadata.json: stratum must be one of {', '.join(STRATA)}")
    for text in [str(meta.get("citation", "")), *map(str, meta.get("secondary_sources", []))]:
        if forum_or_aggregator(text):
            problems.append(f"metadata.json: a forum or a news aggregator is never a source ({text!r})")
    if meta.get("digitised_on"):
        try:
            dt.date.fromisoformat(str(meta["digitised_on"]))
        except ValueError:
            problems.append("metadata.json: digitised_on must be an ISO date (YYYY-MM-DD)")
    events = meta.get("total_events")
    if events is not None and (not isinstance(events, int) or events < 0):
        problems.append("metadata.json: total_events must be a whole number >= 0")


def read_benchmark(directory: Path) -> DigitisedBenchmark:
    """Read and check a benchmark directory; raise BenchmarkFileError listing every problem."""
    problems: list[str] = []
    meta_path = directory / "metadata.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BenchmarkFileError([f"metadata.json: {error}"]) from error
    _check_metadata(meta, problems)
    points = _rows(directory / str(meta.get("survival_csv", "survival.csv")), ("day", "survival"), problems)
    _check_curve(points, str(meta.get("survival_csv")), problems)
    risk: list[tuple[float, float]] = []
    if meta.get("at_risk_csv"):
        risk = _rows(directory / str(meta["at_risk_csv"]), ("day", "at_risk"), problems)
        _check_risk(risk, str(meta["at_risk_csv"]), problems)
    if problems:
        raise BenchmarkFileError(problems)
    test = bool(meta.get("test_only", False))
    label = str(meta["label"])
    if test and not label.startswith(TEST_PREFIX):
        label = TEST_PREFIX + label
    doi = str(meta.get("doi", ""))
    source = f"{meta['citation']}" + (f"; DOI {doi}" if doi else "") + f"; {meta['figure']}"
    source += f"; digitised by {meta['digitised_by']}" + (
        f" on {meta['digitised_on']}" if meta.get("digitised_on") else ""
    )
    return DigitisedBenchmark(
        code=str(meta["code"]),
        fields={
            "trial": str(meta["trial"]),
            "label": label,
            "kind": "km_points",
            "arm": str(meta["arm"]),
            "stratum": str(meta["stratum"]),
            "points": [[d, s] for d, s in points],
            "risk_table": [[d, int(n)] for d, n in risk],
            "total_events": meta.get("total_events"),
            "n": int(risk[0][1]) if risk else None,
            "doi": doi,
            "figure": str(meta["figure"]),
            "digitised_by": str(meta["digitised_by"]),
            "digitised_on": dt.date.fromisoformat(meta["digitised_on"]) if meta.get("digitised_on") else None,
            "secondary_sources": [f"secondary: {s}" for s in meta.get("secondary_sources", [])],
            "provenance": str(meta.get("provenance", "reconstructed")),
            "source": source,
            "is_test": test,
            "text": str(meta.get("notes", "")),
        },
    )
