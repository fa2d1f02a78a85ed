"""Every volume of a span set carries its own evidence: the session's paperwork .7z and custody record
(jobs/session_evidence.py), in its metadata archive before the manifest (TAR, CPIO, AXF-style) or under
`.lto-archive/<job>-volN/` (LTFS). A volume's paperwork describes the set so far: the manifests and copy logs
of the set's earlier volumes, and this volume's own files.

`room` bounds what both take, for the span writers' reserve; `check_tape_volume` and `check_ltfs_volume`
are what span verify and restore do with them: check them as a single session's are checked (damage is the
volume's damage, exit 6, never a file's proof) and, restoring, give them back under `.lto-archive/<session>/`
with the volume's manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from types import SimpleNamespace
from typing import Any

from ..errors import ArchiveError, CorruptArchive, LtoArchiveError, RestoreConflict, UnsafePath
from ..formats.ltfs.index import File, Index
from ..jobs.ltfs_read import read_file_bytes, stored_hashes
from ..jobs.read import TapeFileResult, locate_tape_file, open_tape_file
from ..jobs.session import new_session_info
from ..jobs.spool import Parts, Spooled, spooled
from ..jobs.session_evidence import EvidenceCheck, custody_room, earlier_files, paperwork_room
from ..hashing import MultiHasher
from ..manifest import MANIFEST_MEMBER, META_DIR, Manifest, SessionInfo, utc_now
from ..paperwork import CUSTODY_NAME, PAPERWORK_NAME
from ..restore_target import RestoreTarget

MEMBER_OVERHEAD = 2560          # a member's header (and a PAX header for a long name) and its padding


class EarlierVolumes:
    """What a set's next volumes' paperwork packs of its closed volumes: each one's manifest and copy log, the
    bytes that went on its cartridge, kept in a spool file (in memory when the temporary folder cannot take
    them) as the volume closes, since later knowledge (a split file's whole hashes) changes its records."""

    def __init__(self) -> None:
        self.files: list[tuple[str, Spooled | bytes]] = []

    def add(self, manifest: Manifest) -> None:
        for name, make in earlier_files(manifest):
            self.files.append((name, spooled(make) or b"".join(make())))

    @property
    def size(self) -> tuple[int, int]:
        """Bytes and files they hold."""
        return sum(f.size if isinstance(f, Spooled) else len(f) for _, f in self.files), len(self.files)

    def items(self) -> list[tuple[str, Parts]]:
        """(name, maker of its parts) for `session_evidence.evidence_files`."""
        return [(name, f.chunks if isinstance(f, Spooled) else partial(iter, [f])) for name, f in self.files]

    def close(self) -> None:
        for _, f in self.files:
            if isinstance(f, Spooled):
                f.close()
        self.files = []


def room(info: SessionInfo, metadata: int, earlier: EarlierVolumes, cards: int, paperwork: bool = True) -> int:
    """Upper bound of the bytes a volume's custody record and paperwork take on tape: the paperwork packs the
    volume's metadata files (at most `metadata` bytes: the writer's bound for them), the earlier volumes'
    (`earlier`: their exact bytes and files), the cards' histories and the custody record."""
    custody = custody_room(info)
    size, count = earlier.size
    names = 4 + len(info.algorithms) + 8 * cards + count
    packed = paperwork_room(metadata + size, names, custody) if paperwork else 0
    return custody + packed + 2 * MEMBER_OVERHEAD


def bound_info(opts: Any, sources: Sequence[Any], job_id: str) -> SessionInfo:
    """A volume's session as `room` measures it before the volume is opened (its texts as long as they get)."""
    stub: Any = SimpleNamespace(name=opts.device_name or "", barcode=None, generation=SimpleNamespace(name=""))
    info = new_session_info(opts, list(sources), stub, stub, None, None, None, utc_now())
    info.session_id = f"{job_id}-vol99999"
    return info


def _damage(res: TapeFileResult, why: str) -> None:
    if res.error is None:
        res.error = CorruptArchive(why)


def _give_back(target: RestoreTarget | None, res: TapeFileResult, sid: str, name: str, data: bytes) -> None:
    """Restoring: the member under `.lto-archive/<session>/` (never counted as a restored file)."""
    if target is None:
        return
    try:
        target.write_file(f"{META_DIR}/{sid}/{name}", [data], 0o644)
    except (UnsafePath, RestoreConflict) as exc:
        res.refused.append({"path": f"{META_DIR}/{sid}/{name}", "reason": "exists", "message": exc.message})


def check_tape_volume(dev: Any, man: Manifest, res: TapeFileResult, target: RestoreTarget | None) -> None:
    """The volume's metadata archive (the tape file after its data): its paperwork and custody record checked
    (damage: `res.error`, the cartridge named); restoring, both given back. A volume written before they
    existed has none: nothing to check."""
    span, sid, barcode = man.session.span, man.session.session_id, man.session.barcode or "the cartridge"
    n = span.get("manifest_tape_file")
    if n is None:
        return
    check = EvidenceCheck()

    def damaged(why: str) -> None:
        _damage(res, f"{barcode}, volume {span.get('sequence')} of the set (tape file {n}): {why}")
    try:
        locate_tape_file(dev, n)
        _fmt, stream, reader = open_tape_file(dev)
        for m in reader:
            evidence = EvidenceCheck.is_evidence(m.path)
            if evidence or (target is not None and m.path == MANIFEST_MEMBER):
                data = reader.read_data(m)
                if evidence:
                    check.check(m.path, data, on_damage=damaged)
                _give_back(target, res, sid, m.path.rsplit("/", 1)[-1], data)
        if not stream.at_end:
            stream.skip_to_end()
    except (ArchiveError, LtoArchiveError) as exc:
        damaged(f"its metadata archive cannot be read to its end: {exc.message} (the files' proofs do not "
                f"depend on it)")


def check_ltfs_volume(dev: Any, ix: Index, block_size: int, man: Manifest, res: TapeFileResult,
                      target: RestoreTarget | None) -> None:
    """The LTFS volume's `.lto-archive/<session>/paperwork.7z` and `custody.jsonl`: checked as a tape file's
    are, and against the `ltfs.hash.*` checksums the index holds for them; restoring, given back."""
    sid = man.session.session_id
    barcode = man.session.barcode or "the cartridge"
    check = EvidenceCheck()

    def damaged(why: str) -> None:
        _damage(res, f"{barcode}, volume {man.session.span.get('sequence')} of the set: {why}")
    for name in (PAPERWORK_NAME, CUSTODY_NAME, "manifest.json"):
        path = f"{META_DIR}/{sid}/{name}"
        if name == "manifest.json" and target is None:
            continue
        node = ix.lookup(path)
        if not isinstance(node, File):
            continue
        try:
            data = b"".join(bytes(v) for v in read_file_bytes(dev, node, block_size))
        except LtoArchiveError as exc:
            damaged(f"its {name} ({path}) cannot be read: {exc.message} (the files' proofs do not depend on it)")
            continue
        stored = stored_hashes(node)
        if stored:
            h = MultiHasher(tuple(stored))
            h.update(data)
            if any(h.hexdigests().get(a) != v for a, v in stored.items()):
                damaged(f"its {name} ({path}) is damaged: its bytes do not match the index's checksums "
                        f"(the files' proofs do not depend on it)")
                continue
        if name != "manifest.json":
            check.check(path, data, on_damage=damaged)
        _give_back(target, res, sid, name, data)


__all__ = ["room", "bound_info", "EarlierVolumes", "check_tape_volume", "check_ltfs_volume"]
