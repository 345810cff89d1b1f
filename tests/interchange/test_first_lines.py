"""The duplicate check's memory of keys (`importer.FirstLines`): a key read in an earlier chunk is
found, with the line it was first read on, when the chunk that repeats it is folded in; the keys
of this chunk are found as each row is read (issue 18, item 6)."""

from __future__ import annotations

from interchange.importer import FirstLines


def key(patient: str, day: int) -> int:
    return hash((patient, f"2025-01-{day:02d}"))


def test_a_key_of_this_chunk_is_found_with_its_line():
    seen = FirstLines()
    seen.add(key("GB-LON-0001", 6), 2)
    assert seen.first_in_chunk(key("GB-LON-0001", 6)) == 2
    assert seen.first_in_chunk(key("GB-LON-0001", 7)) is None


def test_folding_returns_the_keys_of_earlier_chunks_with_their_first_lines():
    seen = FirstLines()
    for line, day in enumerate((1, 2, 3), start=2):
        seen.add(key("GB-LON-0001", day), line)
    assert seen.fold() == {}
    seen.add(key("GB-SHF-0001", 1), 5)
    assert seen.fold() == {}
    seen.add(key("GB-LON-0001", 2), 6)  # line 3's key again
    seen.add(key("GB-SHF-0001", 2), 7)
    seen.add(key("GB-SHF-0001", 1), 8)  # line 5's key again
    assert seen.fold() == {key("GB-LON-0001", 2): 3, key("GB-SHF-0001", 1): 5}


def test_a_repeated_key_keeps_its_first_line_through_later_folds():
    seen = FirstLines()
    seen.add(key("GB-LON-0001", 1), 2)
    seen.fold()
    seen.add(key("GB-LON-0001", 1), 3)
    assert seen.fold() == {key("GB-LON-0001", 1): 2}
    seen.add(key("GB-LON-0001", 1), 4)
    assert seen.fold() == {key("GB-LON-0001", 1): 2}


def test_a_fold_finds_nothing_for_keys_never_read():
    seen = FirstLines()
    for day in range(1, 10):
        seen.add(key("GB-LON-0001", day), day + 1)
        seen.fold()
    seen.add(key("GB-LON-0001", 10), 11)
    seen.add(key("GB-LON-0002", 1), 12)
    assert seen.fold() == {}
