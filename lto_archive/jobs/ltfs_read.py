"""Reading LTFS volumes back: list, verify and restore from the current index.

Files are read in order of their first block so the tape moves once, hashed
as they stream by and compared with the checksums the index stores as
`ltfs.hash.*` extended attributes (ours or another tool's). Our own sessions'
manifests (`.lto-archive/<session>/manifest.json` on the volume) add what
the index cannot say: a file that changed while it was copied is reported
unproven, never verified. A file with no stored checksum is readable but
unproven (exit 5), never "ok".

The newest index on each partition must be usable: when one cannot be read and an older generation is
all there is, the read fails (CorruptArchive, exit 6) unless the caller asks for an older generation
(`generation=N`, `rollback=True`), and then it says so loudly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import CorruptArchive, EndOfData, LtoArchiveError, RestoreConflict, UnsafePath
from ..formats.ltfs.index import MODIFY, File, Index
from ..formats.ltfs.session import ALGORITHM_OF_XATTR
from ..formats.ltfs.recover import SALVAGED, SALVAGED_REASON, is_salvaged
from ..formats.ltfs.volume import VolumeState, open_volume, partition_of, read_index_at
from ..hashing import ALGORITHMS, DEFAULT_ALGORITHMS
from ..record_file import parse_manifest_chunks
from ..manifest import META_DIR, OK, FileRecord, Manifest, SessionInfo
from ..restore_target import RestoreTarget
from ..tape.device import TapeDevice
from ..progress import ProgressCallback, ProgressTracker
from .read import MemberSeen, ReadResult, TapeFileResult, compare, hash_chunks, matches_patterns, refuse, settle

NO_CHECKSUM = "no-checksum"


def stored_hashes(node: File) -> dict[str, str]:
    """The checksums an index keeps for a file, by our algorithm names."""
    out: dict[str, str] = {}
    from ..ltfs_tools import LTFS_HASH_ALGORITHMS   # also the names other LTFS tools write
    for key, value in (node.xattrs or {}).items():
        algo = ALGORITHM_OF_XATTR.get(key) or LTFS_HASH_ALGORITHMS.get(key)
        if algo is None and key.startswith("ltfs.hash."):
            name = key[len("ltfs.hash."):].lower().removesuffix("sum")
            algo = name if name in ALGORITHMS else None
        if algo is not None and isinstance(value, str):
            out[algo] = value.strip().lower()
    return out


def read_file_bytes(device: TapeDevice, node: File, block_size: int, here: list[Any] | None = None
                    ) -> Iterator[memoryview]:
    """A file's bytes from its extents (holes read as zeros); CorruptArchive when the tape disagrees.
    `here`: [(partition, block)] where the device is, kept up to date by the caller's reads in tape order
    ([None]: unknown): a file whose data starts there is read without a locate (one per file made a
    drive stop streaming between small files); left [None] when the read does not finish."""
    pos = 0
    where: tuple[int, int] | None = here[0] if here is not None else None
    if here is not None:
        here[0] = None
    for ext in sorted(node.extents, key=lambda e: e.file_offset):
        if ext.file_offset > pos:          # a hole (sparse file): zeros, 1 MiB at a time
            yield from zeros(ext.file_offset - pos)
            pos = ext.file_offset
        part = partition_of(ext.partition)
        if where != (part, ext.start_block):
            device.locate(part, ext.start_block)
        block = ext.start_block
        skip, left = ext.byte_offset, ext.byte_count
        while left > 0:
            try:
                rec = device.read_record(max(block_size, 1 << 20))
            except EndOfData:
                raise CorruptArchive(f"{node.name}: its data at {ext.partition}/{block} runs past the end of "
                                     f"data (the volume is damaged or cut short)") from None
            if not rec:
                raise CorruptArchive(f"{node.name}: a filemark at {ext.partition}/{block} where its data "
                                     f"should be (the index does not match the tape)")
            block += 1
            view = memoryview(rec)[skip:]
            skip = max(0, skip - len(rec))
            if len(view) > left:
                view = view[:left]
            left -= len(view)
            pos += len(view)
            if view:
                yield view
        where = (part, block)
    if here is not None:
        here[0] = where
    if node.length > pos:
        yield from zeros(node.length - pos)


def zeros(n: int, chunk: int = 1 << 20) -> Iterator[memoryview]:
    """`n` zero bytes in chunks of at most `chunk`: never one buffer sized by a length from the tape."""
    block = memoryview(bytes(min(n, chunk)))
    while n > 0:
        yield block[:min(n, chunk)]
        n -= chunk


def session_manifests(device: TapeDevice, ix: Index, block_size: int,
                      damage: list[str] | None = None) -> list[Manifest]:
    """Our sessions' manifests stored on the volume (`.lto-archive/<session>/manifest.json`). One that exists
    but cannot be read or parsed is damage: said in `damage` (never taken as absent), and left out."""
    meta = ix.lookup(META_DIR)
    out: list[Manifest] = []
    if meta is None:
        return out
    for path, node in ix.files():
        if path.startswith(META_DIR + "/") and path.endswith("/manifest.json"):
            try:
                out.append(parse_manifest_chunks(read_file_bytes(device, node, block_size), path))
            except LtoArchiveError as exc:
                if damage is not None:
                    damage.append(exc.message)
    return out


def expected_records(ix: Index, manifests: list[Manifest]) -> Manifest:
    """What the volume claims, as a manifest: every file with its stored hashes and copy status."""
    status: dict[str, FileRecord] = {}     # the files a session did not copy cleanly (the last word on each)
    for m in manifests:
        for rec in m.files:
            if rec.kind != "file":
                continue
            if rec.status != OK:
                status[rec.path] = rec
            else:
                status.pop(rec.path, None)
    records = []
    for path, node in ix.files():
        if node.symlink is not None:
            continue
        rec = FileRecord(path=path, kind="file", size=node.length, hashes=stored_hashes(node))
        ours = status.get(path)
        if ours is not None and ours.status != OK:
            rec.status, rec.message = ours.status, ours.message
        elif not rec.hashes and path.startswith(META_DIR + "/"):
            continue   # a session's own manifest/log without stored hashes (the mount backend): not footage
        elif not rec.hashes and is_salvaged(path):
            rec.status, rec.message = SALVAGED, SALVAGED_REASON     # never proven (jobs/salvaged.py)
        elif not rec.hashes:
            rec.status = NO_CHECKSUM
            rec.message = "no evidence: unproven (no checksum is stored for it: written by another tool)"
        records.append(rec)
    session = SessionInfo(session_id=f"ltfs-{ix.volume_uuid}-gen{ix.generation}", tool=ix.creator, format="ltfs",
                          algorithms=[], record_size=0, operator="", host="", sources=[], device="",
                          barcode=None, generation="", tape_file=0, partition=None, start_block=None, started="")
    return Manifest(session, records)


def read_ltfs(device: TapeDevice, phase: str, *, patterns: list[str] | tuple[str, ...] = (),
              dest: Path | None = None, overwrite: bool = False, progress: ProgressCallback | None = None,
              state: VolumeState | None = None, generation: int | None = None,
              rollback: bool = False, keep_damaged: bool = False, accept_unproven: bool = False) -> ReadResult:
    """The one pass behind `ls`, `verify` and `restore` for an LTFS volume: from its newest index, or (asked
    for, said loudly) an older generation: `generation=N`, or `rollback` to the newest readable one."""
    pats = list(patterns)
    state = state or open_volume(device)
    ix, bs = choose_index(device, state, generation, rollback), state.block_size
    res = TapeFileResult(0)
    result = ReadResult(phase, [res])
    result.notes = list(state.notes)
    if ix is not state.index or state.ip.problems + state.dp.problems:     # only when asked: said loudly
        result.notes.insert(0, f"WARNING: ROLLBACK: reading LTFS index generation {ix.generation} on purpose, "
                               f"not the newest: files written after it are not shown")
    entries = [(p, n) for p, n in ix.walk() if matches_patterns(p, pats)]
    files = sorted(((p, n) for p, n in entries if isinstance(n, File) and n.symlink is None),
                   key=lambda pn: (pn[1].start_block is None, pn[1].start_block or 0, pn[0]))
    mtime = {id(n): n.time_ns(MODIFY) for _, n in entries}
    for p, n in entries:
        kind = "dir" if not isinstance(n, File) else ("symlink" if n.symlink is not None else "file")
        seen = MemberSeen(p, kind, n.length if isinstance(n, File) else 0, mtime[id(n)] / 1e9, 0,
                          (n.start_block or 0) if isinstance(n, File) else 0, 0,
                          linkname=(n.symlink or "") if isinstance(n, File) else "")
        res.members.append(seen)
    by_path = {m.path: m for m in res.members}
    if phase == "list":
        return result
    damage: list[str] = []
    manifests = session_manifests(device, ix, bs, damage)
    if damage:
        res.error = CorruptArchive(f"LTFS volume: {'; '.join(damage)}")
    tracker = ProgressTracker(phase, progress, sum(n.length for _, n in files), len(files))
    target = RestoreTarget(Path(dest), overwrite=overwrite) if dest is not None else None
    try:
        if target is not None:
            for p, n in entries:
                if not isinstance(n, File):
                    guard_restore(res, p, lambda: target.make_dir(p, 0o755, mtime_ns=mtime[id(n)]))
        here: list[Any] = [None]     # where the device is: files in tape order need no locate each
        for p, n in files:
            seen = by_path[p]
            algorithms = tuple(stored_hashes(n)) or DEFAULT_ALGORITHMS
            tracker.file_started(p)
            try:
                seen.hashes = read_node(device, n, bs, algorithms, tracker, target, p, mtime[id(n)], res, here)
            except CorruptArchive as exc:
                res.failed.append({"path": p, "reason": exc.message})
            tracker.file_done()
        judge(result, expected_records(ix, manifests), pats, accept_unproven=accept_unproven)
        if target is not None:
            settle(target, res, keep_damaged=keep_damaged)     # only what did not fail takes its real name
            for p, n in entries:
                if isinstance(n, File) and n.symlink is not None:
                    guard_restore(res, p, lambda: target.make_symlink(p, n.symlink, mtime_ns=mtime[id(n)]))
    finally:
        if target is not None:
            target.finish()
            target.close()
    tracker.finish()
    return result


def judge(result: ReadResult, expected: Manifest, pats: list[str], *, accept_unproven: bool = False) -> None:
    """Compare the volume's one result with what its index and sessions claim (`expected_records`): a file
    with no stored checksum is unproven ("no evidence"), unless `accept_unproven` accepts it as read."""
    res = result.tape_files[0]
    failed_paths = {f["path"] for f in res.failed}
    unhashed = [r for r in expected.files if r.status == NO_CHECKSUM and matches_patterns(r.path, pats)]
    if accept_unproven and unhashed:
        # as with a TAR file without a manifest: read, but said plainly that nothing proved them
        result.notes.append(f"{len(unhashed)} file(s) have no stored checksum (written by another tool): "
                            f"accepted as read, not proven (--accept-unproven)")
        res.accepted += [r.path for r in unhashed]
        expected.files = [r for r in expected.files if r.status != NO_CHECKSUM]
    expected.files = [r for r in expected.files if r.path not in failed_paths]
    res.manifest, res.manifest_source = expected, "LTFS index"
    compare(res, expected, pats)


def choose_index(device: TapeDevice, state: VolumeState, generation: int | None, rollback: bool) -> Index:
    """The index to read: the current one when the newest index of each partition is usable; else
    CorruptArchive naming the unusable one, unless the caller asked for an older generation."""
    lost = state.ip.problems + state.dp.problems        # newer indexes passed over: they cannot be read
    if generation is None:
        if lost and not rollback:
            raise CorruptArchive(
                f"the newest LTFS index cannot be used: {'; '.join(lost)}. The newest readable one is generation "
                f"{state.index.generation}: files written after it would be missing. Read it only on purpose "
                f"(--rollback, or --generation {state.index.generation}), or run lto-archive ltfs recover",
                generation=state.index.generation)
        return state.index
    ix = state.index
    while ix.generation > generation and ix.previous is not None:
        letter, block = ix.previous
        ix = read_index_at(device, partition_of(letter), block, state.block_size)
    if ix.generation != generation:
        raise CorruptArchive(f"there is no readable LTFS index of generation {generation} on this volume (the "
                             f"current one is generation {state.index.generation})", generation=generation)
    return ix


def guard_restore(res: TapeFileResult, path: str, action: Any) -> bool:
    """Run one restore `action` (make a folder, a symlink); a refusal goes into `res`, a success is restored."""
    try:
        action()
    except (UnsafePath, RestoreConflict) as exc:
        refuse(res, path, exc)
        return False
    res.add_restored(path)     # a set beside the list: linear in the number of folders and links
    return True


def read_node(device: TapeDevice, node: File, bs: int, algorithms: tuple[str, ...], tracker: ProgressTracker,
              target: RestoreTarget | None, path: str, mtime_ns: int, res: TapeFileResult,
              here: list[Any] | None = None) -> dict[str, str]:
    """Read one LTFS file's bytes and hash them; with `target`, restore it as `path` in the same pass.
    `here`: where the device is (`read_file_bytes`)."""
    if target is None:
        return hash_chunks(read_file_bytes(device, node, bs, here), algorithms, tracker)[0]
    try:
        out = target.open_file(path, 0o644, mtime_ns=mtime_ns)
    except (UnsafePath, RestoreConflict) as exc:
        refuse(res, path, exc)
        return {}
    with out:
        hashes, _ = hash_chunks(read_file_bytes(device, node, bs, here), algorithms, tracker, out)
        out.hold()       # under its temporary name until `settle` has judged it
    res.held[path] = out
    return hashes


__all__ = ["read_ltfs", "read_file_bytes", "stored_hashes", "expected_records", "NO_CHECKSUM",
           "session_manifests", "guard_restore", "read_node", "zeros", "judge"]
