"""Reading tapes back: list, verify and restore, one pass over each tape file.

The read pipeline is walk -> decode -> hash -> compare -> restore target:
`read_tape` asks jobs/medium.py what the cartridge holds (an LTFS volume is
read through its index by jobs/ltfs_read.py); tape files are walked here in
tape order (`locate_tape_file`, then `open_tape_file`: the format detected from
the first record and its member reader, `member_reader`), each member decoded
by its format's reader, file data hashed as it streams by (`hash_chunks`) and
checked against the archive's own manifest (the last member) by `compare`. A
restore writes through RestoreTarget (`restore_member`), so nothing lands
outside the destination, and is verified by the same pass. Span sets
(span/read.py) and catalog import (jobs/catalog_import.py) use the same
pieces.
"""

from __future__ import annotations

import fnmatch
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import (ArchiveError, CorruptArchive, EndOfData, JobIncomplete, LtoArchiveError, RestoreConflict,
                      UnsafePath, UsageError, VerificationFailed)
from ..formats.tapefile import TapeFileReader
from ..problems import summarise
from ..formats.registry import ArchiveFormat, detect_format, get_format
from ..formats.tar_reader import TarMember, TarReader
from ..hashing import DEFAULT_ALGORITHMS
from ..manifest import MANIFEST_MEMBER, META_DIR, OK, SESSION_MEMBER, FileRecord, Manifest, parse_session_record
from ..restore_target import RestoreTarget
from .restore_proof import (DAMAGED_SUFFIX, EVIDENCE, NO_EVIDENCE, footer_mismatch, judge_alone, own_evidence,
                            refuse, settle)
from ..tape.device import TapeDevice
from .journal import load_copy_log
from .read_data import hash_chunks, hash_member
from .spool import read_manifest
from .restore_choice import pass_over_older
from .session_evidence import EvidenceCheck
from ..progress import ProgressCallback, ProgressTracker


@dataclass(slots=True)
class MemberSeen:
    """A member as found on tape, with the hashes of the bytes read back."""

    path: str
    kind: str
    size: int
    mtime: float
    tape_file: int
    block: int
    offset: int
    hashes: dict[str, str] = field(default_factory=dict)
    linkname: str = ""
    part: bool = False     # one part of a file split across the cartridges of a span set: `size` bytes of it


@dataclass
class TapeFileResult:
    """One tape file (one archive session) read back."""

    tape_file: int
    members: list[MemberSeen] = field(default_factory=list)
    manifest: Manifest | None = None
    manifest_source: str = ""          # "tape", or the path of a copy log given by the user
    error: LtoArchiveError | None = None   # damage found while reading
    verified: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)     # path, reason, expected, actual
    unproven: list[dict[str, Any]] = field(default_factory=list)   # recorded as not copied cleanly
    restored: list[str] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)    # restore refusals (unsafe, exists)
    parts_verified: list[str] = field(default_factory=list)    # span sets: files whose part here is proven
    proven_by: dict[str, str] = field(default_factory=dict)   # verified path -> the evidence that proved it
    accepted: list[str] = field(default_factory=list)   # files with no evidence, accepted so (accept_unproven)
    restored_seen: set[str] = field(default_factory=set, repr=False)   # `restored` as a set (add_restored)
    restored_indexed: int = field(default=0, repr=False)                # how much of `restored` it holds
    held: dict[str, Any] = field(default_factory=dict, repr=False)   # restored, not yet proven: `settle` judges
    links: list[tuple[str, str]] = field(default_factory=list, repr=False)   # hard links to held files
    passed_over: list[str] = field(default_factory=list)   # restored, then replaced by a newer session's copy

    @property
    def session_id(self) -> str | None:
        return self.manifest.session.session_id if self.manifest else None

    def add_restored(self, path: str) -> bool:
        """Count `path` as restored, once: False when it already is. A set kept beside the list (caught up
        with whatever was appended to the list directly), so n members cost O(n), never O(n^2)."""
        seen = self.restored_seen
        if self.restored_indexed < len(self.restored):
            seen.update(self.restored[self.restored_indexed:])
        if path in seen:
            self.restored_indexed = len(self.restored)
            return False
        seen.add(path)
        self.restored.append(path)
        self.restored_indexed = len(self.restored)
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "tape_file": self.tape_file,
            "session_id": self.session_id,
            "manifest": self.manifest_source or None,
            "members": len(self.members),
            "error": self.error.to_dict() if self.error else None,
            "verified": len(self.verified),
            "failed": self.failed,
            "unproven": self.unproven,
            "restored": len(self.restored),
            "refused": self.refused,
            "parts_verified": self.parts_verified,
            "proven_by": self.proven_by,
            "accepted_unproven": self.accepted,
            "passed_over": self.passed_over,
        }


@dataclass
class ReadResult:
    phase: str
    tape_files: list[TapeFileResult]
    notes: list[str] = field(default_factory=list)   # warnings to show (LTFS: stale or fallback index)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [dict(f, tape_file=t.tape_file) for t in self.tape_files for f in t.failed]

    @property
    def errors(self) -> list[LtoArchiveError]:
        return [t.error for t in self.tape_files if t.error is not None]

    @property
    def refused(self) -> list[dict[str, Any]]:
        return [dict(r, tape_file=t.tape_file) for t in self.tape_files for r in t.refused]

    @property
    def unproven(self) -> list[dict[str, Any]]:
        return [dict(u, tape_file=t.tape_file) for t in self.tape_files for u in t.unproven]

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        if self.errors or self.refused:
            return "damaged" if self.errors else "refused"
        return "incomplete" if self.unproven else "ok"

    def raise_for_status(self) -> None:
        """Mismatches first (exit 3), then damage or refusals (exit 6), then unproven files (exit 5)."""
        if self.failed:
            why = summarise((f["path"], f["reason"]) for f in self.failed)
            raise VerificationFailed(f"{len(self.failed)} file(s) FAILED verification: {why}",
                                     files=[f["path"] for f in self.failed])
        if self.errors:
            raise self.errors[0]
        if self.refused:
            first = self.refused[0]
            raise (UnsafePath if first["reason"] == "unsafe" else RestoreConflict)(
                f"{len(self.refused)} member(s) not restored: "
                + summarise((r["path"], _reason(r["path"], r["message"])) for r in self.refused),
                files=[r["path"] for r in self.refused])
        if self.unproven:
            raise JobIncomplete(f"{len(self.unproven)} file(s) cannot be proven: "
                                + summarise((u["path"], u["reason"]) for u in self.unproven),
                                files=[u["path"] for u in self.unproven])

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "status": self.status, "notes": self.notes,
                "tape_files": [t.to_dict() for t in self.tape_files]}


def _reason(path: str, message: str) -> str:
    """A refusal's reason without the path it names (for one summary line over many files)."""
    return message.replace(f"{path!r} ", "").replace(f"{path!r}", "it")


_META_PREFIX = META_DIR + "/"
DEFAULT_FORMAT = "tar"      # a tape file whose format is not recognised is read as TAR (what other tools wrote)


def matches_patterns(path: str, patterns: list[str]) -> bool:
    if not patterns:
        return True
    return any(fnmatch.fnmatchcase(path, p) or path.startswith(p.rstrip("/") + "/") or path == p.rstrip("/")
               for p in patterns)


def locate_tape_file(device: TapeDevice, n: int) -> bool:
    """Position at the start of tape file n; False when there is none."""
    device.locate(device.partitions - 1, 0)
    try:
        if n:
            device.space_filemarks(n)
    except EndOfData:
        return False
    return not device.position().eod


def _tape_file_numbers(device: TapeDevice, only: Iterable[int] | None) -> Iterable[int]:
    if only is not None:
        yield from sorted(set(only))
        return
    n = 0
    while True:
        yield n
        n += 1


def _peek_first(device: TapeDevice) -> bytes | None:
    """The first record of the tape file here (b"" at a filemark, None at EOD); the position is left unchanged."""
    try:
        first = device.read_record()
    except EndOfData:
        return None
    if first:
        device.space_records(-1)
    else:
        device.space_filemarks(-1)
    return bytes(first)


def peek_format(device: TapeDevice) -> ArchiveFormat | None:
    """Which format the tape file here holds, from its first record; the position is left unchanged."""
    first = _peek_first(device)
    return None if first is None else detect_format(first)


def open_tape_file(device: TapeDevice, *, volume: bool = False) -> tuple[ArchiveFormat | None, TapeFileReader, Any]:
    """The format, stream and member reader of the tape file here (its format detected from its first record;
    none detected: read as TAR). `volume`: it is a span set's volume, whose members may be parts of files."""
    fmt = peek_format(device)
    stream = TapeFileReader(device)
    return fmt, stream, member_reader(fmt, stream, volume=volume)


def member_reader(fmt: ArchiveFormat | None, stream: Any, *, volume: bool = False) -> Any:
    """`fmt`'s reader over `stream` (None, nothing detected: the default format's, TAR); `volume`: a span
    set's volume, read with the format's `volume_reader` when it has one (TAR: members may be continued)."""
    fmt = fmt if fmt is not None else get_format(DEFAULT_FORMAT)
    if volume and fmt.volume_reader is not None:
        return fmt.volume_reader(stream)
    return fmt.reader(stream)


def _is_span_volume(first: bytes | None, fmt: ArchiveFormat | None) -> bool:
    """A volume of a span set (docs/spanning.md): it starts with a continued file (TAR), or with a
    session.json that names its set. (A format whose first member header is not in the first record,
    AXF-style, says so in its session.json: Walker._member.)"""
    if not first:
        return False
    try:
        r = member_reader(fmt, io.BytesIO(first), volume=True)
        m = r.next()
        if m is None:
            return False
        if getattr(m, "part_offset", None) is not None:
            return True
        return m.path == SESSION_MEMBER and bool(parse_session_record(r.read_data(m)).get("span"))
    except (ArchiveError, ValueError):
        return False


class Walker:
    """Reads one tape file's members; restore and verify plug in through `target`."""

    def __init__(self, device: TapeDevice, n: int, tracker: ProgressTracker, *, hash_files: bool,
                 target: RestoreTarget | None, patterns: list[str], algorithms: tuple[str, ...] | None) -> None:
        self.device, self.n, self.tracker = device, n, tracker
        self.hash_files, self.target, self.patterns = hash_files, target, patterns
        self.algorithms = algorithms
        self.result = TapeFileResult(n)
        self.ours = False             # a session record was read: lto-archive wrote this tape file
        self.manifest_seen = False
        # files read and hashed, for their own evidence in a tape file without a manifest (own_evidence): the
        # path, and the member as read when it can carry any (a TAR member cannot: not kept, 10^6 of them)
        self.footed: list[tuple[str, Any, MemberSeen | None]] = []
        self.evidence = EvidenceCheck()
        self.reader: Any = None

    def damage(self, what: str) -> None:
        """Record damage in this tape file (the first one found is its error); the walk goes on."""
        if self.result.error is None:
            self.result.error = CorruptArchive(f"tape file {self.n}: {what}", tape_file=self.n)

    def run(self) -> TapeFileResult:
        first = _peek_first(self.device)
        fmt = detect_format(first) if first is not None else None
        stream = TapeFileReader(self.device)
        self.volume = _is_span_volume(first, fmt)
        reader = self.reader = member_reader(fmt, stream, volume=self.volume)
        try:
            for member in reader:
                self._member(reader, stream, member)
            reader.check_damage()    # members skipped, damage read past: the tape file is not whole
        except ArchiveError as exc:
            self.result.error = exc
            exc.message = f"tape file {self.n}: {exc.message}"
            exc.args = (exc.message,)
            exc.data.setdefault("tape_file", self.n)
        finally:
            if not stream.at_end:
                stream.skip_to_end()
        if self.cut_short:
            self.damage(f"it ends before its manifest ({MANIFEST_MEMBER}): a truncated or zeroed region "
                        f"(it may read as an end of archive) after {len(self.result.members)} members")
        return self.result

    @property
    def cut_short(self) -> bool:
        """An lto-archive tape file (its session record was read) that ended without its manifest and without
        other damage found: what follows the last member read is missing (a span volume's manifest is in the
        next tape file)."""
        return self.ours and not self.manifest_seen and not self.volume and self.result.error is None

    def _member(self, reader: TarReader, stream: TapeFileReader, m: TarMember) -> None:
        res = self.result
        if m.path == SESSION_MEMBER:
            self.ours = True      # an lto-archive tape file: its manifest is expected at the end
            try:
                doc = parse_session_record(reader.read_data(m))
            except CorruptArchive as exc:
                self.damage(exc.message)
                return
            self.algorithms = self.algorithms or tuple(doc.get("algorithms") or DEFAULT_ALGORITHMS)
            self.volume = self.volume or bool(doc.get("span"))    # AXF: a span volume says so first
            return
        if m.path == MANIFEST_MEMBER:       # parsed as it streams by, restored as it passes (spool.read_manifest)
            self.manifest_seen = True
            got = read_manifest(reader.iter_data(m), self.target, f"{META_DIR}/tape-file-{self.n}/manifest.json", m)
            res.manifest, res.manifest_source = got.manifest, "tape" if got.manifest is not None else ""
            if got.damage:        # present but unreadable: damage, never absence
                self.damage(got.damage)
            if got.refused is not None:
                refuse(res, got.rel, got.refused)
            return
        if m.path.startswith(_META_PREFIX):
            check = self.hash_files and EvidenceCheck.is_evidence(m.path)    # the session's paperwork, custody
            data: Any = reader.read_data(m) if self.target is not None else reader.iter_data(m) if check else b""
            if check:
                self.evidence.check(m.path, data, on_damage=self.damage)
            if self.target is not None:
                rel = f"{META_DIR}/tape-file-{self.n}/{m.path[len(META_DIR) + 1:]}"
                self._restore_bytes(rel, m, data)
            return
        block, offset = stream.block_of(m.header_offset)
        seen = MemberSeen(m.path, m.kind, m.size, m.mtime, self.n, block, offset, linkname=m.linkname)
        res.members.append(seen)
        wanted = not self.patterns or matches_patterns(m.path, self.patterns)
        if m.kind == "file":
            self.tracker.file_started(m.path)
        if self.volume and m.kind == "file" and wanted and self._part(reader, m, seen):
            return
        if self.target is not None and wanted:
            self._restore(reader, m, seen)
        elif m.kind == "file" and self.hash_files and wanted:
            seen.hashes, _ = hash_member(reader, m, self.algorithms or DEFAULT_ALGORITHMS, self.tracker)
        if m.kind == "file":
            self.tracker.file_done()
            if seen.hashes:
                kept = hasattr(getattr(m, "extra", None), "footer") or hasattr(reader, "evidence")   # AXF, cpio
                self.footed.append((m.path, m, seen) if kept else (m.path, None, None))

    def _part(self, reader: TarReader, m: TarMember, seen: MemberSeen) -> bool:
        """A span volume's member that may be a part of a split file: hash it; a part is never
        restored alone (its file is whole only with the set). False: a whole file, restore it."""
        continued = getattr(m, "part_offset", None) is not None
        if not continued and (self.target is not None or not self.hash_files):
            return False      # restored (or listed) as a whole file; `_restore` drops it if the volume cuts it
        seen.hashes, n = hash_member(reader, m, self.algorithms or DEFAULT_ALGORITHMS, self.tracker)
        if continued or reader_cut(reader, m):
            seen.size, seen.part = n, True
            if self.target is not None:
                _part_not_restored(self.result, m.path)
        self.tracker.file_done()
        return True

    def _restore_bytes(self, rel: str, m: TarMember, data: bytes) -> None:
        try:
            self.target.write_file(rel, [data], m.mode & 0o777, mtime_ns=m.mtime_ns)  # type: ignore[union-attr]
        except (UnsafePath, RestoreConflict) as exc:
            refuse(self.result, rel, exc)

    def _restore(self, reader: TarReader, m: TarMember, seen: MemberSeen) -> None:
        assert self.target is not None
        restore_member(self.target, reader, m, seen, self.result, self.algorithms or DEFAULT_ALGORITHMS, self.tracker)


def _part_not_restored(result: TapeFileResult, path: str) -> None:
    result.unproven.append({"path": path, "reason": "a part of a file split across the cartridges of a "
                            "span set: not restored alone (restore the set: lto-archive span restore)"})


def restore_member(target: RestoreTarget, reader: Any, m: Any, seen: MemberSeen, result: TapeFileResult,
                   algorithms: tuple[str, ...], tracker: ProgressTracker) -> None:
    """Restore one member through `target`, hashing a file's bytes in the same pass (into `seen.hashes`)."""
    try:
        if m.kind == "dir":
            target.make_dir(m.path, m.mode & 0o777, mtime_ns=m.mtime_ns)
        elif m.kind == "symlink":
            target.make_symlink(m.path, m.linkname, mtime_ns=m.mtime_ns)
        elif m.kind == "hardlink" and m.linkname in result.held:
            result.links.append((m.path, m.linkname))     # made when its file is proven and in place
            return
        elif m.kind == "hardlink":
            target.make_hardlink(m.path, m.linkname)
        elif m.kind == "file":
            with target.open_file(m.path, m.mode & 0o777, mtime_ns=m.mtime_ns) as out:
                hashes, _ = hash_member(reader, m, algorithms, tracker, out)
                if reader_cut(reader, m):      # a span volume ends inside it: only a part, dropped
                    seen.size, seen.part, seen.hashes = out.bytes_written, True, hashes
                    _part_not_restored(result, m.path)
                    return
                out.hold()        # under its temporary name until `settle` has judged it
            seen.hashes = hashes
            earlier = result.held.pop(m.path, None)
            if earlier is not None:
                earlier.abort()    # a later member of the same name replaces it (as tar does)
            result.held[m.path] = out
            return
        else:
            return
    except (UnsafePath, RestoreConflict) as exc:
        refuse(result, m.path, exc)
        return
    result.restored.append(m.path)


def reader_cut(reader: Any, m: Any) -> bool:
    """True when a span volume ended inside member `m` (it goes on on the next cartridge)."""
    cut = getattr(reader, "cut", None)
    return cut is not None and cut[0] is m


def compare(result: TapeFileResult, manifest: Manifest, patterns: list[str]) -> None:
    """Check every file the manifest lists against what was read back."""
    seen = {m.path: m for m in result.members if m.kind == "file"}
    refused = {r["path"] for r in result.refused}
    label = EVIDENCE.get(result.manifest_source, result.manifest_source)
    proofs: dict[tuple[str, ...], str] = {}     # "manifest xxh128+md5", made once per set of algorithms
    for rec in manifest.files:
        if rec.kind != "file" or (patterns and not matches_patterns(rec.path, patterns)):
            continue
        if rec.path in refused:
            continue  # not restored (exists, unsafe): reported as a refusal, its bytes were never read
        if rec.status != OK:
            if rec.status in ("lost", "not-written", "unreadable", "skipped"):
                continue  # never claimed to be on tape
            result.unproven.append({"path": rec.path, "reason": f"{rec.status}: {rec.message}"})
            continue
        got = seen.get(rec.part.get("member", rec.path) if rec.part else rec.path)
        if got is None:
            result.failed.append({"path": rec.path, "reason": "missing from the tape file"})
            continue
        if rec.part and any(u["path"] == rec.path for u in result.unproven):
            continue      # a part, not restored alone: already said
        size = rec.part["length"] if rec.part else rec.size
        if got.size != size:
            result.failed.append({"path": rec.path, "reason": f"size {got.size} on tape, {size} expected"})
            continue
        if rec.hashes and not got.hashes:
            result.failed.append({"path": rec.path, "reason": "not read back to its end: the tape file is "
                                  "damaged or cut short inside this file"})
            continue
        if got.hashes == rec.hashes:
            bad = {}
        else:
            bad = {a: (h, got.hashes.get(a)) for a, h in rec.hashes.items() if got.hashes.get(a) != h}
        if bad:
            a, (want, have) = next(iter(bad.items()))
            result.failed.append({"path": rec.path, "reason": f"{a} mismatch", "algorithm": a,
                                  "expected": want, "actual": have})
        else:
            result.verified.append(rec.path)
            algs = tuple(rec.hashes)
            proof = proofs.get(algs)
            if proof is None:
                proof = proofs[algs] = f"{label} {'+'.join(sorted(rec.hashes))}".strip()
            result.proven_by[rec.path] = proof


def read_tape(device: TapeDevice, phase: str, *, tape_files: Iterable[int] | None = None,
              patterns: Iterable[str] = (), dest: Path | None = None, overwrite: bool = False,
              manifest: Manifest | None = None, progress: ProgressCallback | None = None,
              generation: int | None = None, rollback: bool = False, keep_damaged: bool = False,
              accept_unproven: bool = False) -> ReadResult:
    """The one pass behind `ls`, `verify` and `restore`, whatever the cartridge holds (jobs/medium.py).

    `tape_files` (only these) and `manifest` (a copy log written next to the
    job, standing in for a tape file whose own manifest is missing, e.g. after
    the tape filled mid-job) are about tape files: with either, the cartridge
    is read as tape files. `generation` / `rollback`: an LTFS volume read from
    an older index generation, on purpose (jobs/ltfs_read.py). `keep_damaged`: a restored file that fails is
    kept as NAME.damaged (never under its real name). `accept_unproven`: files with no evidence at all (no
    manifest, no checksum of their own) are accepted as read instead of making the result "incomplete".
    """
    if tape_files is None and manifest is None:
        from .medium import open_medium
        return open_medium(device).read(phase, patterns=patterns, dest=dest, overwrite=overwrite, progress=progress,
                                        generation=generation, rollback=rollback, keep_damaged=keep_damaged,
                                        accept_unproven=accept_unproven)
    return read_tape_files(device, phase, tape_files=tape_files, patterns=patterns, dest=dest, overwrite=overwrite,
                           manifest=manifest, progress=progress, keep_damaged=keep_damaged,
                           accept_unproven=accept_unproven)


def read_tape_files(device: TapeDevice, phase: str, *, tape_files: Iterable[int] | None = None,
                    patterns: Iterable[str] = (), dest: Path | None = None, overwrite: bool = False,
                    manifest: Manifest | None = None, progress: ProgressCallback | None = None,
                    keep_damaged: bool = False, accept_unproven: bool = False) -> ReadResult:
    """Read a cartridge's tape files in order (TAR, CPIO, AXF-style: each walked by `Walker`), comparing each
    with its manifest; a span set's volume with the manifest in the tape file after it. A restored file takes
    its real name only once its tape file has been compared and it did not fail (`settle`)."""
    pats = list(patterns)
    tracker = ProgressTracker(phase, progress)
    target = RestoreTarget(Path(dest), overwrite=overwrite, replace_own=True) if dest is not None else None
    results: list[TapeFileResult] = []
    consumed: set[int] = set()    # metadata tape files of span volumes, read with their volume
    try:
        for n in _tape_file_numbers(device, tape_files):
            if not locate_tape_file(device, n):
                if tape_files is not None:
                    raise UsageError(f"there is no tape file {n} on this tape (tape files are numbered from 0; "
                                     "`lto-archive ls --device ...` lists them)", tape_file=n)
                break
            if n in consumed:
                continue
            algorithms = tuple(manifest.session.algorithms) if manifest else None
            walker = Walker(device, n, tracker, hash_files=phase != "list", target=target,
                             patterns=pats, algorithms=algorithms)
            res = walker.run()
            if walker.volume and res.manifest is None and locate_tape_file(device, n + 1):
                # a span set's volume: its manifest is the next tape file's (docs/spanning.md)
                meta = Walker(device, n + 1, tracker, hash_files=False, target=target, patterns=pats,
                               algorithms=algorithms).run()
                consumed.add(n + 1)
                if meta.manifest is not None and meta.manifest.session.span.get("data_tape_file") == n:
                    res.manifest, res.manifest_source = meta.manifest, "tape"
                    if res.error is None and meta.error is not None:
                        res.error = meta.error
            if res.manifest is None and manifest is not None and (
                    manifest.session.tape_file in (None, n)):
                res.manifest, res.manifest_source = manifest, "copy log"
            if phase != "list" and res.manifest is not None:
                compare(res, res.manifest, pats)
            elif phase != "list":      # readable is not proven: each file by its own evidence, or unproven
                judge_alone(res, walker, accept_unproven=accept_unproven)
            if target is not None:
                settle(target, res, keep_damaged=keep_damaged)
            results.append(res)
    finally:
        if target is not None:
            target.finish()
            target.close()
    tracker.finish()
    out = ReadResult(phase, results, notes=pass_over_older(results))    # the newest copy of each path
    accepted = sum(len(t.accepted) for t in results)
    if accepted:
        out.notes.append(f"{accepted} file(s) have no evidence (no manifest, no checksum of their own): "
                         f"accepted as read, not proven (--accept-unproven)")
    return out


def list_tape(device: TapeDevice, **kw: Any) -> ReadResult:
    return read_tape(device, "list", **kw)


def verify_tape(device: TapeDevice, **kw: Any) -> ReadResult:
    return read_tape(device, "verify", **kw)


def restore_tape(device: TapeDevice, dest: Path, **kw: Any) -> ReadResult:
    return read_tape(device, "restore", dest=dest, **kw)


__all__ = ["FileRecord", "ReadResult", "TapeFileResult", "MemberSeen", "Walker", "list_tape", "verify_tape",
           "restore_tape", "read_tape", "read_tape_files", "footer_mismatch", "load_copy_log", "compare",
           "matches_patterns", "locate_tape_file", "peek_format", "open_tape_file", "member_reader", "restore_member", "refuse", "reader_cut", "hash_chunks",
           "settle", "DAMAGED_SUFFIX", "NO_EVIDENCE", "EVIDENCE", "own_evidence", "judge_alone"]
