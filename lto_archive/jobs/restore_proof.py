"""A restored file takes its real name only once it is proven: `settle` judges the files a read held.

A restore writes each file under a temporary name in its folder (restore_target.RestoreFile.hold) and
hashes it in the same pass; the tape file's manifest (or the index, or the catalog) comes after. Once the
tape file has been compared, `settle` moves every file that did not fail into place, drops the bytes of
one that FAILED (or keeps them as NAME.damaged when asked), and makes the hard links to held files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import LtoArchiveError, RestoreConflict, UnsafePath
from ..restore_target import RestoreTarget

if TYPE_CHECKING:
    from .read import TapeFileResult


def refuse(result: "TapeFileResult", path: str, exc: LtoArchiveError) -> None:
    """A member not restored (its name is unsafe, or it exists): said in the result, never silently."""
    reason = "unsafe" if isinstance(exc, UnsafePath) else "exists"
    result.refused.append({"path": path, "reason": reason, "message": exc.message})


DAMAGED_SUFFIX = ".damaged"


def settle(target: RestoreTarget, result: "TapeFileResult", *, keep_damaged: bool = False) -> None:
    """Judge the files `restore_member` restored, now that the tape file has been compared: a file that
    FAILED never gets its real name (its bytes are dropped, or kept beside it as NAME.damaged when
    `keep_damaged`; an existing file is left untouched); every other file is moved into place."""
    bad = {f["path"]: f for f in result.failed}
    held, result.held = result.held, {}
    for path, out in held.items():
        failure = bad.get(path)
        try:
            if failure is None:
                out.commit()
            elif keep_damaged:
                out.commit(DAMAGED_SUFFIX)
                failure.update(kept_as=path + DAMAGED_SUFFIX, reason=failure["reason"] + (
                    f"; not restored, the bytes read are kept as {path + DAMAGED_SUFFIX}"))
                continue
            else:
                out.abort()
                failure["reason"] += "; not restored (the bytes read are dropped: --keep-damaged keeps them)"
                continue
        except (UnsafePath, RestoreConflict) as exc:
            refuse(result, path, exc)
            continue
        result.restored.append(path)
    links, result.links = result.links, []
    for path, linkname in links:
        if linkname in bad:
            result.failed.append({"path": path, "reason": f"a hard link to {linkname}, which failed: not restored"})
            continue
        try:
            target.make_hardlink(path, linkname)
        except (UnsafePath, RestoreConflict) as exc:
            refuse(result, path, exc)
            continue
        result.restored.append(path)


__all__ = ["DAMAGED_SUFFIX", "refuse", "settle"]
