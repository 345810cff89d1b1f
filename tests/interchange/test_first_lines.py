"""The duplicate check's memory of keys (`importer.FirstLines`): every key read earlier in the file
is found with the line it was first read on, whether it is still among the recent keys or has been
folded into the sorted arrays (issue 18, item 6)."""

from __future__ import annotations

from interchange.importer import FirstLines


def test_a_key_is_found_with_its_first_line_before_and_after_the_fold():
    seen = FirstLines(fold_every=3)
    seen.add(hash(("GB-LON-0001", "2025-01-06")), 2)
    assert seen.first(hash(("GB-LON-0001", "2025-01-06"))) == 2
    seen.add(hash(("GB-LON-0002", "2025-01-06")), 3)
    seen.add(hash(("GB-LON-0003", "2025-01-06")), 4)  # the third key folds the three
    assert seen.recent == {}
    assert [seen.first(hash((f"GB-LON-000{n}", "2025-01-06"))) for n in (1, 2, 3)] == [2, 3, 4]


def test_keys_folded_at_different_times_are_all_found():
    seen = FirstLines(fold_every=2)
    keys = [hash(("GB-SHF-0001", f"2025-02-{day:02d}")) for day in range(1, 12)]
    for line, key in enumerate(keys, start=2):
        seen.add(key, line)
    assert [seen.first(key) for key in keys] == list(range(2, 13))


def test_a_key_never_read_is_not_found():
    seen = FirstLines(fold_every=2)
    for day in range(1, 6):
        seen.add(hash(("GB-LON-0001", f"2025-03-{day:02d}")), day + 1)
    assert seen.first(hash(("GB-LON-0001", "2025-03-06"))) is None
    assert seen.first(hash(("GB-LON-0002", "2025-03-01"))) is None
