"""Package-wide rules: no Django, caveat handling, JSON output."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analytics.stats
from analytics.stats import CAVEATS, get_caveats, kaplan_meier
from analytics.stats.caveats import benchmark_provenance_caveat
from analytics.stats.results import jsonable

STATS_DIR = Path(analytics.stats.__file__).parent


@pytest.mark.parametrize("path", sorted(STATS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_stats_modules_do_not_import_django(path):
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "django" not in imported
    assert "rest_framework" not in imported


def test_every_standard_caveat_has_a_title_and_text():
    expected = {
        "real_world_non_randomised",
        "confounding",
        "immortal_time_bias",
        "left_truncation",
        "benchmark_confirmed",
        "benchmark_secondary",
    }
    assert expected <= CAVEATS.keys()
    assert all(c.title and len(c.text) > 40 for c in CAVEATS.values())


def test_unknown_caveat_codes_fail_loudly():
    with pytest.raises(KeyError, match="typo"):
        get_caveats("typo")


def test_benchmark_provenance_maps_to_its_caveat():
    assert benchmark_provenance_caveat("confirmed") == "benchmark_confirmed"
    assert benchmark_provenance_caveat("secondary") == "benchmark_secondary"


def test_with_caveats_appends_without_duplicates():
    df = pd.DataFrame({"t": [1, 2], "e": [1, 0]})
    res = kaplan_meier(df, "t", "e").with_caveats("confounding", "confounding")
    res = res.with_caveats("confounding", "immortal_time_bias")
    assert [c.code for c in res.caveats] == ["confounding", "immortal_time_bias"]


def test_jsonable_turns_nan_and_numpy_types_into_plain_json():
    out = jsonable({"a": np.float64(math.nan), "b": np.int64(3), "c": (np.bool_(True), np.inf)})
    assert out == {"a": None, "b": 3, "c": [True, None]}
    json.dumps(out, allow_nan=False)


def test_public_api_is_exported():
    for name in analytics.stats.__all__:
        assert hasattr(analytics.stats, name)
