"""What proves a file read back, and a restored file takes its real name only once it is proven.

Evidence, best first: the tape file's manifest (or a copy log, a journal, the LTFS index's ltfs.hash
xattrs, the catalog: `jobs/read.compare`); without one, the file's own (`own_evidence`: an AXF-style file
footer, a cpio crc). A file with none is "no evidence: unproven", never ok (`judge_alone`).

A restore writes each file under a temporary name in its folder (restore_target.RestoreFile.hold) and
hashes it in the same pass; the tape file's manifest (or the index, or the catalog) comes after. Once the
tape file has been compared, `settle` moves every file that did not fail into place, drops the bytes of
one that FAILED (or keeps them as NAME.damaged when asked), and makes the hard links to held files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import LtoArchiveError, RestoreConflict, UnsafePath
from ..restore_target import RestoreTarget

if TYPE_CHECKING:
    from .read import MemberSeen, TapeFileResult, Walker


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


NO_EVIDENCE = "no evidence: unproven"
#: how each source of recorded hashes is named in "proven by" (jobs compare against a manifest-shaped record)
EVIDENCE = {"tape": "manifest", "": "manifest", "LTFS index": "ltfs.hash xattrs"}


def own_evidence(reader: Any, m: Any, seen: "MemberSeen") -> tuple[str, str | None] | None:
    """What a member read back proves about itself, without a manifest: (the evidence, why it fails or None),
    or None when it carries none. An AXF-style file footer's checksums (those hashed on the way), or what
    the format's reader checked itself (`reader.evidence(m)`: the cpio crc)."""
    footer = getattr(m, "footer", None)
    sums = sorted(a for a in (footer.checksums if footer is not None else {}) if a in seen.hashes)
    if sums:
        return f"axf file footer {'+'.join(sums)}", footer_mismatch(m, seen)
    check = getattr(reader, "evidence", None)
    return check(m) if check is not None else None


def judge_alone(result: "TapeFileResult", walker: "Walker", *, accept_unproven: bool = False) -> None:
    """No manifest for this tape file: each file read is judged by its own evidence (`own_evidence`); a file
    with none is unproven, never ok (or, with `accept_unproven`, listed as accepted so)."""
    for path, m, seen in walker.footed:
        ev = own_evidence(walker.reader, m, seen) if seen is not None else None
        if ev is None and accept_unproven:
            result.accepted.append(path)
        elif ev is None:
            result.unproven.append({"path": path, "reason": f"{NO_EVIDENCE}: no lto-archive manifest, and it "
                                    f"carries no checksum of its own (pass a copy log or journal with --manifest)"})
        elif ev[1]:
            result.failed.append({"path": path, "reason": f"{ev[1]} ({ev[0]})"})
        else:
            result.verified.append(path)
            result.proven_by[path] = ev[0]


def footer_mismatch(m: Any, seen: "MemberSeen") -> str | None:
    """A member that carries its own checksums (an AXF-style file footer) against the hashes of the bytes
    read back: why they differ, or None (they agree, or the member carries none)."""
    footer = getattr(m, "footer", None)
    sums = footer.checksums if footer is not None else {}
    bad = [a for a, h in sums.items() if seen.hashes.get(a, h) != h]
    if not bad:
        return None
    where = f"the segment from byte {m.part_offset}" if getattr(m, "part_offset", None) is not None else "the file"
    return f"{where}: its {bad[0]} does not match its file footer (the checksum it carries itself)"


__all__ = ["DAMAGED_SUFFIX", "refuse", "settle", "NO_EVIDENCE", "EVIDENCE", "own_evidence", "judge_alone",
           "footer_mismatch"]
