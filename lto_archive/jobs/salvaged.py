"""Salvaged files (`ltfs recover --salvage`) in a verify: said on a line of their own, accepted on request.

`ltfs recover --salvage` keeps the blocks a crash left after the last index as files in
`_ltfs_lostandfound/`. Nothing can prove them (no index entry, no checksum, no manifest), so a verify
lists them as unproven (exit 5) with one warning that says what they are; `accept=True`
(`verify --accept-salvaged`) accepts them as known-unproven: still named, no longer unproven, so a
volume whose every other file is proven verifies ok (exit 0). docs/recovery.md.
"""

from __future__ import annotations

from ..formats.ltfs.recover import SALVAGED
from .read import ReadResult


def settle_salvaged(result: ReadResult, *, accept: bool = False) -> list[str]:
    """Add the warning line about the salvaged files of `result` (a verify), and with `accept` move them
    from unproven to accepted. The salvaged paths, in the order read."""
    paths: list[str] = []
    for t in result.tape_files:
        mine = [u for u in t.unproven if str(u.get("reason", "")).startswith(SALVAGED + ":")]
        paths += [u["path"] for u in mine]
        if accept and mine:
            t.unproven = [u for u in t.unproven if u not in mine]
            t.accepted += [u["path"] for u in mine]
    if paths:
        n = len(paths)
        what = "1 salvaged file" if n == 1 else f"{n} salvaged files"
        its = "its bytes were" if n == 1 else "their bytes were"
        them = "it" if n == 1 else "them"
        then = ("accepted as known-unproven (--accept-salvaged)" if accept else
                f"--accept-salvaged accepts {them} as known-unproven")
        result.notes.append(f"{what} in lost+found: not proven — {its} rescued without an index entry; {then}")
    return paths


__all__ = ["settle_salvaged"]
