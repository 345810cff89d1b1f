"""Fixtures for the pure statistics tests: R reference data and results.

The JSON/CSV files are produced by bench/r_reference/make_fixtures.R and
committed, so these tests never need R.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

R_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "r_reference"


@pytest.fixture(scope="session")
def r_result() -> Callable[[str], Any]:
    """Load an R result file, e.g. r_result("km")["lung"]."""
    cache: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name not in cache:
            cache[name] = json.loads((R_DIR / f"{name}.json").read_text())
        return cache[name]

    return load


@pytest.fixture(scope="session")
def lung() -> pd.DataFrame:
    """R's lung data; event 1 = died."""
    return pd.read_csv(R_DIR / "lung.csv")


@pytest.fixture(scope="session")
def veteran() -> pd.DataFrame:
    """R's veteran data with celltype dummies (reference: squamous)."""
    return pd.read_csv(R_DIR / "veteran.csv")


@pytest.fixture(scope="session")
def synthetic() -> pd.DataFrame:
    """Synthetic left-truncated cohort with tied weekly times (columns entry, exit)."""
    return pd.read_csv(R_DIR / "synthetic.csv")


@pytest.fixture(scope="session")
def tiny() -> pd.DataFrame:
    """Tiny datasets where survival hits exactly 0.5."""
    return pd.read_csv(R_DIR / "tiny.csv")


@pytest.fixture(autouse=True)
def _media_root() -> None:
    """Override the project-wide autouse fixture that needs Django settings.

    These tests touch no files or settings, and must run with ``-p no:django``.
    """


@pytest.fixture(scope="session")
def registry() -> pd.DataFrame:
    """Registry-like cohort written by make_fixtures.R: two routes, confounded assignment,
    day-resolution ties, delayed entry, status 0 censored / 1 ventilation / 2 death, and the
    stabilised, truncated IPTW weight w computed by R."""
    return pd.read_csv(R_DIR / "registry.csv")
