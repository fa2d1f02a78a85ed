"""Reading a span set back: verify or restore its volumes in order, joining split files.

    loader = LibraryLoader(open_library("vlib:/srv/vlib"), ["LTA001L9", "LTA002L9", "LTA003L9"])
    result = read_span(loader, "restore", dest=Path("/restore"))
    result.raise_for_status()

A `VolumeLoader` gives the cartridge holding volume N (`load(n)`) and takes it
back (`done(dev)`): from a library by barcode, or on one drive through
--next-tape-command or the operator. Each cartridge's own metadata archive
says which tape file holds the volume, which set and which sequence number it
is, and which part of a split file it holds; a cartridge that is not the
volume asked for is refused (WrongCartridge). The set ends at the volume whose
manifest says it is the last.

Every whole file is proven against its cartridge's manifest. A split file is
proven part by part (each part's hashes, on its cartridge) and as a whole (the
whole file's hashes, on the cartridge of its last part); restored, it appears
under its name only once every part is written.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ..errors import (ArchiveError, DeviceError, EndOfData, LtoArchiveError, MediumError, NoNextCartridge,
                      UsageError)
from ..formats.registry import detect_format
from ..formats.tapefile import TapeFileReader
from ..formats.tar_reader import TarReader
from ..hashing import DEFAULT_ALGORITHMS, MultiHasher
from ..jobs.catalog_restore import WrongCartridge
from ..progress import ProgressCallback, ProgressTracker
from ..jobs.read import (MemberSeen, ReadResult, TapeFileResult, compare, footer_mismatch, hash_chunks,
                         locate_tape_file, matches_patterns, open_tape_file, restore_member, settle)
from ..jobs.medium import LtfsVolume, TapeFiles, open_medium
from ..library.base import DriveInfo, Library
from ..manifest import MANIFEST_MEMBER, META_DIR, OK, SESSION_MEMBER, FileRecord, Manifest
from ..restore_target import RestoreFile, RestoreTarget
from ..devices import open_device
from ..tape.device import MediumInfo, TapeDevice
from .evidence import check_tape_volume
from .ltfs_read import find_ltfs_volume, read_ltfs_volume


class VolumeLoader(Protocol):
    def load(self, sequence: int, set_id: str | None) -> TapeDevice:
        """The cartridge holding volume `sequence` (from 1), loaded."""

    def done(self, dev: TapeDevice) -> None:
        """Finished with this cartridge."""


class LibraryLoader:
    """Volumes from a library, by barcode in set order (from the catalog, or given)."""

    def __init__(self, library: Library, barcodes: list[str]) -> None:
        self.library, self.barcodes = library, list(barcodes)
        self._drive: int | None = None
        self.current_barcode: str | None = None

    def load(self, sequence: int, set_id: str | None) -> TapeDevice:
        if sequence > len(self.barcodes):
            raise NoNextCartridge(f"volume {sequence} of the set was asked for, but only {len(self.barcodes)} "
                                  f"cartridge(s) were named ({', '.join(self.barcodes)})", sequence=sequence)
        barcode = self.barcodes[sequence - 1]
        st = self.library.status()
        if self._drive is None and st.free_drive() is None and not isinstance(st.locate(barcode), DriveInfo):
            self._drive = st.drives[0].number      # every drive is full: put drive 0's cartridge away
            self.library.unload(self._drive)
        self._drive = self.library.load_barcode(barcode, self._drive, put_back_idle=True)
        self.current_barcode = barcode
        return self.library.open_drive(self._drive)

    def done(self, dev: TapeDevice) -> None:
        dev.close()
        if self._drive is not None:
            self.library.unload(self._drive)


class DriveLoader:
    """Volumes through one drive: the first is loaded already; for the next, `--next-tape-command`
    runs (LTO_ARCHIVE_DRIVE, LTO_ARCHIVE_SET, LTO_ARCHIVE_SEQUENCE set) or the operator is asked."""

    def __init__(self, spec: str, *, command: str | None = None, ask: Callable[[str], bool] | None = None) -> None:
        self.spec, self.command, self.ask = spec, command, ask

    def load(self, sequence: int, set_id: str | None) -> TapeDevice:
        if sequence > 1:
            if self.command:
                env = dict(os.environ, LTO_ARCHIVE_DRIVE=self.spec, LTO_ARCHIVE_SET=set_id or "",
                           LTO_ARCHIVE_SEQUENCE=str(sequence), LTO_ARCHIVE_FULL_BARCODE="")
                code = subprocess.run(self.command, shell=True, env=env).returncode
                if code:
                    raise NoNextCartridge(f"--next-tape-command exited {code}: volume {sequence} of set {set_id} "
                                          f"was not loaded", sequence=sequence, status=code)
            elif self.ask is None or not self.ask(f"Load volume {sequence} of set {set_id} into {self.spec} and "
                                                  f"press Enter (q to stop)"):
                raise NoNextCartridge(f"volume {sequence} of set {set_id} was not loaded", sequence=sequence)
        return open_device(self.spec)

    def done(self, dev: TapeDevice) -> None:
        try:
            dev.unload()
        except DeviceError:
            pass
        dev.close()


@dataclass
class SpanReadResult(ReadResult):
    """One TapeFileResult per volume (its cartridge's data tape file); `barcodes` and `media` in set order."""

    set_id: str | None = None
    barcodes: list[str | None] = field(default_factory=list)
    media: list[MediumInfo] = field(default_factory=list)
    complete: bool = False          # the last volume of the set was read

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "set_id": self.set_id, "barcodes": self.barcodes, "complete": self.complete}


def find_volume(dev: TapeDevice, set_id: str | None, sequence: int) -> Manifest | None:
    """The manifest of volume `sequence` of `set_id` (any set when None) on this cartridge, or None.

    Only the metadata archives are read whole; of any other tape file, its first record(s). The
    first match is taken (a set puts one volume on a cartridge). A tape file whose first records cannot be
    read is passed over, so that a read error in a volume's data still finds its manifest (after it)."""
    n = 0
    while locate_tape_file(dev, n):
        try:
            first = dev.read_record()
            fmt = detect_format(bytes(first)) if first else None
            head = _first_member(dev, bytes(first), fmt) if fmt is not None else None
        except EndOfData:
            break
        except MediumError:
            n += 1         # a read error in a volume's data: its manifest, in the next tape file, says what it holds
            continue
        if head is not None and head.path.startswith(META_DIR + "/") and head.path != SESSION_MEMBER:
            man = _manifest_of(dev, n, fmt)
            span = man.session.span if man is not None else {}
            if span and span.get("sequence") == sequence and set_id in (None, span.get("set_id")):
                return man     # (not reading on past it: some drives return junk, not EOD, at end of data)
        n += 1
    return None


def _first_member(dev: TapeDevice, first: bytes, fmt: Any, records: int = 4) -> Any:
    """The first member of the tape file being read, from its first records (at most `records`: an
    AXF-style tape file's volume signature and header and object header take records of their own
    before the first file header); None when they hold none."""
    head = first
    for i in range(records):
        try:
            return fmt.reader(io.BytesIO(head)).next()
        except ArchiveError:
            if i == records - 1:
                return None
        try:
            rec = dev.read_record()
        except EndOfData:
            return None
        if not rec:
            return None
        head += bytes(rec)
    return None


def _manifest_of(dev: TapeDevice, n: int, fmt: Any) -> Manifest | None:
    locate_tape_file(dev, n)
    stream = TapeFileReader(dev)
    reader = fmt.reader(stream)
    try:
        for m in reader:
            if m.path == MANIFEST_MEMBER:
                return Manifest.from_json(reader.read_data(m))
    except (ArchiveError, ValueError, KeyError, TypeError):
        return None
    return None


class _Open:
    """A split file being joined: its whole-file hasher and, when restoring, the file being written."""

    def __init__(self, path: str, size: int, hasher: MultiHasher, out: RestoreFile | None) -> None:
        self.path, self.size, self.hasher, self.out = path, size, hasher, out
        self.done = 0


def read_span(loader: VolumeLoader, phase: str, *, set_id: str | None = None, dest: Path | None = None,
              overwrite: bool = False, patterns: list[str] | tuple[str, ...] = (),
              progress: ProgressCallback | None = None) -> SpanReadResult:
    """Verify ("verify") or restore ("restore", into `dest`) a whole span set, volume by volume."""
    if phase not in ("verify", "restore"):
        raise UsageError(f"a span set is verified or restored, not {phase!r}")
    pats = list(patterns)
    tracker = ProgressTracker(phase, progress)
    target = RestoreTarget(Path(dest), overwrite=overwrite) if phase == "restore" else None
    result = SpanReadResult(phase, [], set_id=set_id)
    state: dict[str, Any] = {"open": None}
    try:
        sequence = 1
        while True:
            try:
                dev = loader.load(sequence, result.set_id)
            except LtoArchiveError as exc:
                _missing_rest(result, state, exc, sequence)
                break
            try:
                last = _read_volume(dev, sequence, result, state, target, pats, tracker, loader)
            except DeviceError as exc:
                _missing_rest(result, state, _on_cartridge(exc, dev, loader, sequence), sequence)
                last = None
            finally:
                loader.done(dev)
            if last is None or last:
                result.complete = bool(last)
                break
            sequence += 1
    finally:
        op: _Open | None = state["open"]
        if op is not None and op.out is not None:
            op.out.abort()
        if target is not None:
            target.finish()
            target.close()
    tracker.finish()
    return result


def _on_cartridge(exc: DeviceError, dev: TapeDevice, loader: Any, sequence: int) -> DeviceError:
    """`exc` said of the cartridge (by its barcode) and the volume it was read for."""
    barcode = getattr(loader, "current_barcode", None) or _barcode(dev)
    where = f"{barcode or 'the cartridge'} (volume {sequence} of the set)"
    if barcode and barcode in exc.message:
        return exc
    exc.message = f"{where}: {exc.message}"
    return exc


def _barcode(dev: TapeDevice) -> str | None:
    try:
        return dev.medium().barcode
    except LtoArchiveError:
        return None


def _missing_rest(result: SpanReadResult, state: dict[str, Any], exc: LtoArchiveError, sequence: int) -> None:
    t = TapeFileResult(-1, error=exc)
    op: _Open | None = state["open"]
    if op is not None:
        t.failed.append({"path": op.path, "reason": f"split across cartridges: volume {sequence} with the rest "
                                                    f"of the file was not read ({exc.message})"})
    result.tape_files.append(t)


def _read_volume(dev: TapeDevice, sequence: int, result: SpanReadResult, state: dict[str, Any],
                 target: RestoreTarget | None, pats: list[str], tracker: ProgressTracker,
                 loader_barcode: Any = None) -> bool | None:
    """Read one volume; True when it is the set's last, False when more follow, None when it is not there."""
    medium = dev.medium()
    known = getattr(loader_barcode, "current_barcode", None)
    if medium.barcode is None and known:
        medium = replace(medium, barcode=known)
    found = None
    for find, read in _VOLUMES[type(open_medium(dev))]:
        found = find(dev, result.set_id, sequence)
        if found is not None:
            break
    if found is None:
        exc = WrongCartridge(f"{medium.barcode or 'the cartridge'} holds no volume {sequence} of "
                             f"{'set ' + result.set_id if result.set_id else 'a span set'}",
                             barcode=medium.barcode, sequence=sequence)
        _missing_rest(result, state, exc, sequence)
        return None
    volume, man = found
    result.set_id = man.session.span["set_id"]
    result.barcodes.append(medium.barcode)
    result.media.append(medium)
    return bool(read(dev, volume, man, result, state, target, pats, tracker, medium))


def _find_tape_volume(dev: TapeDevice, set_id: str | None, sequence: int) -> tuple[None, Manifest] | None:
    man = find_volume(dev, set_id, sequence)
    return (None, man) if man is not None else None


def _read_tape_volume(dev: TapeDevice, _volume: None, man: Manifest, result: SpanReadResult, state: dict[str, Any],
                      target: RestoreTarget | None, pats: list[str], tracker: ProgressTracker,
                      medium: MediumInfo) -> bool:
    """Read the volume's data tape file (`man`: its manifest, from `find_volume`); True when it is the set's last."""
    span = man.session.span
    n = span["data_tape_file"]
    res = TapeFileResult(n, manifest=man, manifest_source="tape")
    result.tape_files.append(res)
    algorithms = tuple(man.session.algorithms) or DEFAULT_ALGORITHMS
    parts = {f.part.get("member", f.path): f for f in man.files if f.part}    # by member name
    seen_parts: dict[str, MemberSeen] = {}
    footed: list[tuple[Any, MemberSeen]] = []      # parts as read, with (AXF) their own file footers
    read_error: MediumError | None = None
    stream = None
    try:
        locate_tape_file(dev, n)
        _fmt, stream, reader = open_tape_file(dev, volume=True)
        for m in reader:
            if m.path.startswith(META_DIR + "/"):
                continue
            block, offset = stream.block_of(m.header_offset)
            seen = MemberSeen(m.path, m.kind, m.size, m.mtime, n, block, offset, linkname=m.linkname)
            wanted = matches_patterns(m.path, pats)
            if getattr(m, "part_offset", None) is not None or m.path in parts:
                seen_parts[m.path] = seen
                footed.append((m, seen))
                join_part(reader, m, seen, parts.get(m.path), res, state, target if wanted else None, algorithms,
                      tracker)
                continue
            res.members.append(seen)
            if m.kind == "file":
                tracker.file_started(m.path)
            if not wanted:
                continue
            _whole(reader, m, seen, res, target, algorithms, tracker)
    except ArchiveError as exc:
        res.error = exc
    except MediumError as exc:
        read_error = exc        # what was read is judged; the rest of the volume was not read back
    finally:
        if stream is not None and read_error is None and not stream.at_end:
            stream.skip_to_end()
    for m, seen in footed:          # AXF: a segment is proven by its own file footer too (spec 7.3)
        why = footer_mismatch(m, seen)
        if why:
            res.failed.append({"path": m.path, "reason": why})
    whole = replace(man, files=[f for f in man.files if not f.part])
    compare(res, whole, pats)
    for member, rec in parts.items():
        path = rec.path
        if matches_patterns(path, pats) and member not in seen_parts and rec.status == OK:
            res.failed.append({"path": path, "reason": f"part {(rec.part or {})['number']} is missing from the "
                                                         f"volume"})
    if target is not None:
        settle(target, res)     # a whole file restored takes its real name only when it did not fail
    if read_error is not None:
        not_read_back(res, read_error, medium.barcode, verify=target is None)
    else:
        check_tape_volume(dev, man, res, target)     # its paperwork and custody record (span/evidence.py)
    return bool(span.get("last"))


def not_read_back(res: TapeFileResult, exc: MediumError, barcode: str | None, *, verify: bool) -> None:
    """After a read error in a volume: the files it cut short or kept from being read are named, with the
    cartridge and the error. Verifying, they are unproven (the write said they were written; the read-back
    could not prove it: exit 5); restoring, they failed (not restored: exit 3)."""
    where = barcode or "the cartridge"
    why = exc.message if where in exc.message else f"{where}: {exc.message}"
    keep: list[dict[str, Any]] = []
    for f in res.failed:
        if f["reason"] == "missing from the tape file" or f["reason"].startswith("not read back to its end"):
            f = {**f, "reason": f"not read back: {why}"}
            (res.unproven if verify else keep).append(f)
        else:
            keep.append(f)
    res.failed = keep


#: per cartridge layout (jobs/medium.py): how to find volume N of a set on it and read it, tried in order
#: (an LTFS cartridge's volume file, else tape files on it)
_VOLUMES: dict[type, tuple[tuple[Callable[..., Any], Callable[..., Any]], ...]] = {
    LtfsVolume: ((find_ltfs_volume, read_ltfs_volume), (_find_tape_volume, _read_tape_volume)),
    TapeFiles: ((_find_tape_volume, _read_tape_volume),),
}


def _whole(reader: TarReader, m: Any, seen: MemberSeen, res: TapeFileResult, target: RestoreTarget | None,
           algorithms: tuple[str, ...], tracker: ProgressTracker) -> None:
    if target is None:
        if m.kind == "file":
            seen.hashes, _ = hash_chunks(reader.iter_data(m), algorithms, tracker)
        return
    restore_member(target, reader, m, seen, res, algorithms, tracker)   # exactly as `restore` does


def join_part(reader: Any, m: Any, seen: MemberSeen, rec: FileRecord | None, res: TapeFileResult,
              state: dict[str, Any], target: RestoreTarget | None, algorithms: tuple[str, ...],
              tracker: ProgressTracker) -> None:
    """One part of a split file: check it follows on, hash it, write it on; prove it, and the whole at its end.
    TAR: the member is the file (its first part's header has the whole size; a continuation says its
    offset); CPIO: the member `NAME.partNNNN`, which the manifest's record places."""
    op: _Open | None = state["open"]
    path = rec.path if rec is not None else m.path
    part: dict[str, Any] = (rec.part or {}) if rec is not None else {}
    offset = m.part_offset if getattr(m, "part_offset", None) is not None else (part["offset"] if rec is not None else 0)
    size = part["size"] if rec is not None else m.size
    if offset == 0:                      # the first part
        if op is not None:
            res.failed.append({"path": op.path, "reason": "its next part is not at the start of this volume"})
        out = None
        if target is not None:
            try:
                out = target.open_file(path, m.mode & 0o777, mtime_ns=m.mtime_ns)
            except (ArchiveError,) as exc:
                res.refused.append({"path": path, "reason": "exists", "message": exc.message})
        op = _Open(path, size, MultiHasher(algorithms), out)
        state["open"] = op
    elif op is None or op.path != path or op.done != offset:
        where = "no file is open" if op is None else f"{op.path} has {op.done} bytes"
        res.failed.append({"path": path, "reason": f"a part from byte {offset} of it, but {where}: "
                                                   f"the volumes are out of order or one is missing"})
        for _ in reader.iter_data(m):
            pass
        return
    part_hasher = MultiHasher(algorithms)
    tracker.file_started(path)
    n = 0
    for chunk in reader.iter_data(m):
        part_hasher.update(chunk)
        op.hasher.update(chunk)
        if op.out is not None:
            op.out.write(chunk)
        n += len(chunk)
        tracker.add_bytes(len(chunk))
    op.done += n
    seen.size = n
    seen.hashes = part_hasher.hexdigests()
    res.members.append(seen)
    if rec is None:
        res.unproven.append({"path": path, "reason": "a part not listed in the cartridge's manifest"})
    elif part.get("length") != n:
        res.failed.append({"path": path, "reason": f"part {part['number']}: {n} bytes on tape, "
                                                     f"{part.get('length')} expected"})
    elif any(seen.hashes.get(a) != h for a, h in rec.hashes.items()):
        res.failed.append({"path": path, "reason": f"part {part['number']}: checksum mismatch"})
    elif rec.hashes:
        res.parts_verified.append(path)     # this cartridge's part is proven (the whole file: at its last part)
    if op.done < op.size:
        return                              # goes on in the next volume
    state["open"] = None
    tracker.file_done()
    whole = (part.get("file_hashes") if rec is not None else None) or {}
    got = op.hasher.hexdigests()
    bad = [a for a, h in whole.items() if got.get(a) != h]
    if not whole:
        res.unproven.append({"path": path, "reason": "no whole-file checksum recorded"})
    elif bad:
        res.failed.append({"path": path, "reason": f"the joined file's {bad[0]} does not match",
                           "algorithm": bad[0], "expected": whole[bad[0]], "actual": got.get(bad[0])})
    elif not any(f["path"] == path for f in res.failed):
        res.verified.append(path)
    if op.out is not None:
        op.out.commit()
        res.restored.append(path)


__all__ = ["VolumeLoader", "LibraryLoader", "DriveLoader", "SpanReadResult", "find_volume", "read_span", "join_part"]
