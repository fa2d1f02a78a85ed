"""Issue 14, item 7: restoring the folders and links of an LTFS volume is linear in their number:
guard_restore counts a path as restored through a set kept beside the result's list, never by searching
the list (which made n folders cost n^2/2 comparisons). Structure checks, not timings."""

from __future__ import annotations

from typing import Any

from lto_archive.errors import RestoreConflict
from lto_archive.jobs.ltfs_read import guard_restore
from lto_archive.jobs.read import TapeFileResult


class CountingList(list):  # type: ignore[type-arg]
    """A list that counts the element comparisons a membership test makes."""

    compared = 0

    def __contains__(self, item: Any) -> bool:
        CountingList.compared += len(self)
        return super().__contains__(item)

    def index(self, *a: Any) -> int:  # type: ignore[override]
        CountingList.compared += len(self)
        return super().index(*a)


def test_many_folders_cost_no_search_of_the_restored_list() -> None:
    res = TapeFileResult(0)
    res.restored = CountingList()
    n = 20_000
    for i in range(n):
        assert guard_restore(res, f"d{i}", lambda: None)
    assert CountingList.compared == 0
    assert len(res.restored) == n and len(res.restored_seen) == n


def test_a_path_is_counted_once_also_when_others_appended_it() -> None:
    res = TapeFileResult(0)
    res.restored.append("a/file.mov")          # a file restored and placed by `settle`
    guard_restore(res, "a", lambda: None)
    guard_restore(res, "a", lambda: None)
    guard_restore(res, "a/file.mov", lambda: None)
    assert res.restored == ["a/file.mov", "a"]


def test_a_refusal_is_not_counted() -> None:
    res = TapeFileResult(0)

    def refuse() -> None:
        raise RestoreConflict("exists", path="x")

    assert not guard_restore(res, "x", refuse)
    assert res.restored == [] and [r["path"] for r in res.refused] == ["x"]
