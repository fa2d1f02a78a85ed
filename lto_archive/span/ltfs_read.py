"""Reading one cartridge of an LTFS span set (span/read.py's `read_span` calls it for LTFS volumes).

The volume's current index says where every file is; the set's manifest
(`.lto-archive/<job>-volN/manifest.json`, a file of the volume) says which of
them belong to volume N of the set: whole files and parts (`NAME.partNNNN`).
They are read in the order of their first block, so the tape moves once; a
whole file is proven against the manifest, and its `ltfs.hash.*` checksums
must agree with it; a part goes to span/read.py's joiner, which proves it and,
at the last part, the joined file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from ..errors import CorruptArchive, LtoArchiveError
from ..formats.ltfs.index import MODIFY, File
from ..formats.ltfs.volume import VolumeState, open_volume
from ..hashing import DEFAULT_ALGORITHMS
from ..jobs.ltfs_read import guard_restore, read_node, session_manifests, read_file_bytes, stored_hashes
from ..progress import ProgressTracker
from ..jobs.read import MemberSeen, TapeFileResult, matches_patterns, compare, settle
from ..manifest import OK, Manifest
from .evidence import check_ltfs_volume
from ..restore_target import RestoreTarget
from ..tape.device import MediumInfo, TapeDevice


def find_ltfs_volume(dev: TapeDevice, set_id: str | None, sequence: int) -> tuple[VolumeState, Manifest] | None:
    """The volume's state and the manifest of volume `sequence` of `set_id` (any set when None), or None."""
    try:
        state = open_volume(dev)
    except LtoArchiveError:
        return None
    for man in session_manifests(dev, state.index, state.block_size):
        span = man.session.span or {}
        if span.get("sequence") == sequence and set_id in (None, span.get("set_id")):
            return state, man
    return None


class _NodeReader:
    """What span/read.py's part joiner reads from: a member's bytes (here: an LTFS file's extents)."""

    def __init__(self, dev: TapeDevice, block_size: int) -> None:
        self.dev, self.block_size = dev, block_size

    def iter_data(self, m: Any) -> Iterator[memoryview]:
        return read_file_bytes(self.dev, m.node, self.block_size)


def read_ltfs_volume(dev: TapeDevice, vs: VolumeState, man: Manifest, result: Any, state: dict[str, Any],
                     target: RestoreTarget | None, pats: list[str], tracker: ProgressTracker,
                     medium: MediumInfo) -> bool:
    """Read the files and parts of one LTFS volume of a set (`man`: its manifest, from
    `find_ltfs_volume`); True when it is the set's last, False when more follow."""
    from .read import join_part
    span = man.session.span
    res = TapeFileResult(0, manifest=man, manifest_source="LTFS volume file")
    result.tape_files.append(res)
    algorithms = tuple(man.session.algorithms) or DEFAULT_ALGORITHMS
    ix, bs = vs.index, vs.block_size
    todo: list[tuple[int, Any, File]] = []
    for rec in man.files:
        if not matches_patterns(rec.path, pats):
            continue
        if rec.kind == "dir" and target is not None:
            node = ix.lookup(rec.path)
            when = node.time_ns(MODIFY) if node is not None else None
            guard_restore(res, rec.path, lambda p=rec.path, t=when, m=rec.mode: target.make_dir(p, m or 0o755, mtime_ns=t))
        if rec.kind != "file":
            continue
        member = rec.part["member"] if rec.part else rec.path
        node = ix.lookup(member)
        if not isinstance(node, File) or node.symlink is not None:
            if rec.status == OK:
                res.failed.append({"path": rec.path, "reason": f"{member} is not in the volume's index"})
            continue
        if rec.status == OK and stored_hashes(node) and any(
                stored_hashes(node).get(a) not in (None, h) for a, h in rec.hashes.items()):
            res.failed.append({"path": rec.path, "reason": f"the index's ltfs.hash checksums of {member} "
                                                           f"differ from the manifest's"})
        todo.append((node.start_block if node.start_block is not None else -1, rec, node))
    reader = _NodeReader(dev, bs)
    for _, rec, node in sorted(todo, key=lambda t: t[0]):
        member = rec.part["member"] if rec.part else rec.path
        mtime_ns = node.time_ns(MODIFY)
        seen = MemberSeen(member, "file", node.length, mtime_ns / 1e9, 0, node.start_block or 0, 0)
        try:
            if rec.part:
                m = SimpleNamespace(path=member, node=node, size=node.length, mode=rec.mode or 0o644,
                                    mtime_ns=mtime_ns, part_offset=rec.part["offset"])
                join_part(reader, m, seen, rec, res, state, target, algorithms, tracker)
                continue
            res.members.append(seen)
            tracker.file_started(rec.path)
            seen.hashes = read_node(dev, node, bs, algorithms, tracker, target, rec.path, mtime_ns, res)
            tracker.file_done()
        except CorruptArchive as exc:
            res.failed.append({"path": rec.path, "reason": f"{exc.message} ({medium.barcode or 'this cartridge'})"})
    if target is not None:
        for rec in man.files:
            if rec.kind == "symlink" and rec.linkname and matches_patterns(rec.path, pats):
                node = ix.lookup(rec.path)
                when = node.time_ns(MODIFY) if node is not None else None
                guard_restore(res, rec.path, lambda r=rec, t=when: target.make_symlink(r.path, r.linkname, mtime_ns=t))
    failed = {f["path"] for f in res.failed}
    whole = replace(man, files=[f for f in man.files if not f.part and f.path not in failed])
    compare(res, whole, pats)
    if target is not None:
        settle(target, res)     # a whole file restored takes its real name only when it did not fail
    check_ltfs_volume(dev, ix, bs, man, res, target)     # its paperwork and custody record (span/evidence.py)
    return bool(span.get("last"))


__all__ = ["find_ltfs_volume", "read_ltfs_volume"]
