"""Restore from the catalog: name the cartridges to load (jobs/restore_plan.py), then locate straight to each file.

    plan = plan_restore(catalog, ["A001_C007/CLIPS", "SOUND_DAY3/T001.WAV"])
    for step in load_instructions(plan):          # what to fetch from the shelf, in the order to load it
        print(step["order"], step["barcode"], step["location"], step["files"], step["bytes"])
    result = restore_from_plan(plan, open_cartridge, Path("/Volumes/RESTORE"), catalog=catalog, who="Jane DIT")
    result.raise_for_status()

`open_cartridge(barcode)` returns a device with that cartridge loaded (the CLI
maps barcodes to `--device` specs, asks the operator to swap, or drives a
library). The loaded medium's barcode must be the one asked for
(WrongCartridge, a DeviceError naming both, otherwise); an LTFS volume must
also be the volume the catalog knows.

TAR, CPIO and AXF tape files: for each file, in tape order, the device
locates to the record holding its header (the catalog's block and offset in
it), that one member is read with its format's reader, written through
RestoreTarget (unsafe names and existing files refused exactly as
`restore` refuses them) and hashed in the same pass with the catalog's
algorithms. Nothing is read from the start of a tape file to reach a member;
when the next wanted member of the same tape file lies at most `read_through`
bytes further on, the drive reads on to it instead of stopping to locate
(one locate per file would stop and start the tape for every frame of an
image sequence). LTFS: the volume's current index gives each file's extents;
files are read in start-block order and hashed against the catalog too.

A damaged record (read error, or bytes that no longer match) fails that file
only; the next file is located afresh. Paths the catalog cannot place
(`plan.unmatched`, `plan.not_on_tape`) are in `result.missing`, so
`result.status` is never "ok" while something asked for was not restored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (ArchiveError, CorruptArchive, DeviceError, EndOfData, JobIncomplete, LtoArchiveError,
                      MediumError, RestoreConflict, UnsafePath)
from ..hashing import ALGORITHMS, DEFAULT_ALGORITHMS
from ..manifest import OK
from ..restore_target import RestoreTarget, split_member_path
from ..tape.device import MAX_RECORD, MediumInfo, TapeDevice
from ..progress import ProgressCallback, ProgressTracker
from .read import MemberSeen, ReadResult, TapeFileResult, hash_chunks
from .restore_plan import (ChosenPlan, choose_copies, load_instruction_lines, load_instructions, loaded_labels, on_index,
                           plan_document, plan_restore)

if TYPE_CHECKING:
    from ..catalog.record import Recorded
    from ..catalog.search import CartridgePlan, PlanEntry, RestorePlan
    from ..catalog.store import Catalog

__all__ = ["plan_restore", "loaded_labels", "load_instructions", "load_instruction_lines", "plan_document", "restore_from_plan",
           "WrongCartridge", "CartridgeFileResult", "CatalogRestoreResult", "READ_THROUGH"]

MiB = 1 << 20
#: read on (instead of locating) to the next wanted member of the same tape file when it starts at most
#: this many bytes further on: cheaper than stopping, repositioning and restarting a real drive
READ_THROUGH = 64 * MiB

_MEDIA_ERRORS = (ArchiveError, MediumError, EndOfData)   # damage under one file: that file fails, the rest goes on


# --- results -----------------------------------------------------------------------------------------

class WrongCartridge(DeviceError):
    """The device holds another cartridge than the one the plan asks for (nothing was read from it).

    `result` (an attribute, not part of `data`): what was restored from earlier cartridges.
    """

    result: "CatalogRestoreResult | None" = None


@dataclass
class CartridgeFileResult(TapeFileResult):
    """One tape file of one cartridge (LTFS: the volume, tape_file 0) as restored from the catalog."""

    barcode: str | None = None       # the plan's label for the cartridge
    format: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"barcode": self.barcode, "format": self.format, **super().to_dict()}


@dataclass
class CatalogRestoreResult(ReadResult):
    """A ReadResult (phase 'restore') whose tape_files are CartridgeFileResults, plus what could not be placed.

    `missing`: {path, reason} for each path or pattern the catalog has no file for
    (`unmatched`) and each file it knows no tape copy of (`not_on_tape`); they count as
    unproven, so status is 'incomplete' (exit 5) at best and raise_for_status names them.
    `recorded`: what record_read put into the catalog, per cartridge.
    """

    unmatched: list[str] = field(default_factory=list)
    not_on_tape: list[str] = field(default_factory=list)
    split: list[str] = field(default_factory=list)            # of not_on_tape: only in parts of a span set
    cartridges: list[str] = field(default_factory=list)      # labels, in the order they were read
    recorded: list["Recorded"] = field(default_factory=list)
    passed_over: list[dict[str, Any]] = field(default_factory=list)   # older copies not read (restore_plan)

    @property
    def missing(self) -> list[dict[str, Any]]:
        return ([{"path": p, "reason": "no catalogued file matches it", "tape_file": None, "barcode": None}
                 for p in self.unmatched]
                + [{"path": p, "reason": "split across the cartridges of a span set: restore it with "
                    "lto-archive span restore" if p in self.split else "the catalog knows no tape copy of it",
                    "tape_file": None, "barcode": None} for p in self.not_on_tape])

    @property
    def unproven(self) -> list[dict[str, Any]]:
        return super().unproven + self.missing

    @property
    def verified(self) -> list[str]:
        return [p for t in self.tape_files for p in t.verified]

    @property
    def restored(self) -> list[str]:
        return [p for t in self.tape_files for p in t.restored]

    def raise_for_status(self) -> None:
        """As ReadResult (mismatches exit 3, damage or refusals exit 6); then paths not restored because
        the catalog cannot place them, with files that cannot be proven (exit 5)."""
        if self.failed or self.errors or self.refused or not self.missing:
            super().raise_for_status()
            return
        missing = self.missing
        others = super().unproven
        text = "; ".join(f"{m['path']}: {m['reason']}" for m in missing[:20])
        if others:
            text += "; and " + "; ".join(f"{u['path']}: {u['reason']}" for u in others[:20])
        raise JobIncomplete(f"{len(missing)} path(s) cannot be restored from the catalog: {text}",
                            files=[m["path"] for m in missing + others])

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d.update({"cartridges": self.cartridges, "unmatched": self.unmatched, "not_on_tape": self.not_on_tape,
                  "verified": len(self.verified), "restored": len(self.restored), "passed_over": self.passed_over,
                  "recorded": [r.to_dict() for r in self.recorded]})
        return d


# --- restoring -----------------------------------------------------------------------------------------

def restore_from_plan(plan: "RestorePlan", open_cartridge: Callable[[str], TapeDevice], dest: Path, *,
                      overwrite: bool = False, progress: ProgressCallback | None = None, who: str | None = None,
                      catalog: "Catalog | None" = None, read_through: int = READ_THROUGH) -> CatalogRestoreResult:
    """Restore every file of `plan` into `dest`, cartridge by cartridge, each in tape order.

    `open_cartridge(label)`: a device with that cartridge loaded (it is neither closed nor
    unloaded here). `catalog`: record each cartridge's outcome (record_read, phase 'restore',
    operator `who`) as soon as it is read. `read_through`: see READ_THROUGH; 0 locates to every
    file. A device error other than a damaged record (no drive, wrong cartridge: WrongCartridge)
    is raised with the work done so far as its `result` attribute (already recorded when `catalog`).
    """
    result = CatalogRestoreResult("restore", [], unmatched=list(plan.unmatched),
                                  not_on_tape=list(plan.not_on_tape),
                                  split=list(plan.split))
    for m in result.missing:
        result.notes.append(f"{m['path']}: {m['reason']}: not restored")
    if not isinstance(plan, ChosenPlan):
        plan = choose_copies(catalog, plan)       # one copy of each path: the newest session's
    result.notes.extend(plan.notes)
    result.passed_over = plan.passed_over
    entries = [e for c in plan for e in c.entries]
    tracker = ProgressTracker("restore", progress, sum(e.size for e in entries), len(entries))
    target = RestoreTarget(Path(dest), overwrite=overwrite)
    def collect(job: _Cartridge) -> None:
        result.tape_files.extend(job.results)
        result.notes.extend(job.notes)
        if catalog is not None and job.results:
            from ..catalog.record import record_read
            rec = record_read(catalog, ReadResult("restore", list(job.results)), job.medium_for_catalog(), who,
                              volume_uuid=job.volume_uuid)
            result.recorded.append(rec)
            if rec.unmatched:
                result.notes.append(f"{job.label}: {len(rec.unmatched)} file(s) read back have no copy on it in "
                                    f"the catalog to record the result against")

    try:
        for cart in plan:
            job: _Cartridge | None = None
            try:
                device = open_cartridge(cart.barcode)
                job = _Cartridge(device, cart, plan.tapes.get(cart.barcode, {}), target, tracker, read_through)
                job.check_loaded()
                result.cartridges.append(cart.barcode)
                job.run()
            except LtoArchiveError as exc:
                if job is not None and job.started:
                    collect(job)        # what was read before the device failed is still true
                if getattr(exc, "result", None) is None:
                    exc.result = result     # type: ignore[attr-defined]
                raise
            collect(job)
    finally:
        target.finish()
        target.close()
    tracker.finish()
    return result


@dataclass
class _Member:
    """What the tape holds where the catalog says a file starts."""

    path: str
    kind: str
    size: int
    mode: int
    mtime_ns: int


@dataclass
class _Cursor:
    """A TAR/CPIO reader left after a member, so the next wanted member of the same tape file can be
    reached by reading on."""

    tape_file: int
    format: str
    stream: Any
    reader: Any


class _Cartridge:
    def __init__(self, device: TapeDevice, cart: "CartridgePlan", info: dict[str, Any], target: RestoreTarget,
                 tracker: ProgressTracker, read_through: int) -> None:
        self.device, self.cart, self.info = device, cart, info
        self.label = cart.barcode
        self.target, self.tracker, self.read_through = target, tracker, max(0, int(read_through))
        self.results: list[CartridgeFileResult] = []
        self._by_key: dict[tuple[bool, int], CartridgeFileResult] = {}
        self.notes: list[str] = []
        self.medium: MediumInfo | None = None
        self.volume_uuid: str | None = None
        self._volume: Any = None
        self._cursor: _Cursor | None = None
        self.started = False

    # --- which cartridge is loaded ------------------------------------------------------
    def check_loaded(self) -> None:
        self.medium = self.device.medium()
        loaded = (self.medium.barcode or "").strip()
        label = self.label
        where = f" ({self.info['location']})" if self.info.get("location") else ""
        has_ltfs = any(on_index(e) for e in self.cart.entries)
        if label.startswith("ltfs:"):
            want_uuid: str | None = label[len("ltfs:"):]
        else:
            want_uuid = self.info.get("volume_uuid") if has_ltfs else None
        if label.startswith(("ltfs:", "device:")):
            if label.startswith("device:"):
                self.notes.append(f"{label}: the catalog knows no barcode for this cartridge, so the loaded one "
                                  f"({loaded or 'no barcode'}) cannot be checked; each file's name and checksum "
                                  f"still are")
        elif not loaded:
            self.notes.append(f"{label}: the loaded cartridge reports no barcode (none in its cartridge memory); "
                              f"it is taken to be {label}: each file's name and checksum are still checked")
        elif loaded.upper() != label.strip().upper():
            raise WrongCartridge(f"cartridge {loaded} is loaded, but the restore needs {label}{where} here: "
                                 f"load {label} and try again (nothing was read from {loaded})",
                                 expected=label, loaded=loaded)
        if has_ltfs:
            try:
                self._open_volume()
            except (LtoArchiveError, ValueError) as exc:
                if want_uuid:
                    raise WrongCartridge(f"{label}{where} should hold LTFS volume {want_uuid}, but the loaded "
                                         f"cartridge ({loaded or 'no barcode'}) has no readable LTFS volume: "
                                         f"{getattr(exc, 'message', exc)}", expected=label, loaded=loaded or None,
                                         volume_uuid=want_uuid) from None
                raise
            if want_uuid and self.volume_uuid != want_uuid:
                raise WrongCartridge(f"the loaded cartridge ({loaded or 'no barcode'}) holds LTFS volume "
                                     f"{self.volume_uuid}, but the catalog knows {label}{where} as volume "
                                     f"{want_uuid} (reformatted since? run 'lto-archive catalog import' with it "
                                     f"loaded)", expected=label, loaded=loaded or None, volume_uuid=self.volume_uuid,
                                     expected_volume_uuid=want_uuid)

    def medium_for_catalog(self) -> MediumInfo | None:
        """The loaded medium, with the plan's barcode when its memory holds none (it was accepted as that one)."""
        m = self.medium
        if m is not None and not m.barcode and not self.label.startswith(("ltfs:", "device:")):
            m = replace(m, barcode=self.label)
        return m

    def _open_volume(self) -> None:
        if self._volume is None:
            from ..formats.ltfs.volume import open_volume
            self._volume = open_volume(self.device)
            self.volume_uuid = self._volume.label.volume_uuid
            self.notes.extend(f"{self.label}: {n}" for n in self._volume.notes)

    # --- reading --------------------------------------------------------------------------
    def run(self) -> None:
        self.started = True
        tape_entries = sorted((e for e in self.cart.entries if not on_index(e)), key=lambda e: (e.position, e.path))
        for e in tape_entries:
            self._tape_file_entry(e)
        self._cursor = None
        ltfs_entries = [e for e in self.cart.entries if on_index(e)]
        if ltfs_entries:
            self._ltfs(ltfs_entries)

    def _result(self, tape_file: int | None, fmt: str, *, index: bool = False) -> CartridgeFileResult:
        key = (index, tape_file if tape_file is not None else -1)    # the files of an LTFS volume's index: their own
        res = self._by_key.get(key)
        if res is None:
            res = self._by_key[key] = CartridgeFileResult(key[1], barcode=self.label, format=fmt)
            self.results.append(res)
        return res

    def _failed(self, res: CartridgeFileResult, e: "PlanEntry", reason: str, **more: Any) -> None:
        res.failed.append({"path": e.path, "reason": reason, "barcode": self.label, "block": e.block, **more})

    def _refuse(self, res: CartridgeFileResult, path: str, exc: LtoArchiveError) -> None:
        reason = "unsafe" if isinstance(exc, UnsafePath) else "exists"
        res.refused.append({"path": path, "reason": reason, "message": exc.message, "barcode": self.label})

    def _tape_file_entry(self, e: "PlanEntry") -> None:
        res = self._result(e.tape_file, e.format)
        self.tracker.file_started(e.path)
        try:
            split_member_path(e.path)
        except UnsafePath as exc:       # refused before the tape moves
            self._refuse(res, e.path, exc)
            self.tracker.file_done()
            return
        if None in (e.tape_file, e.partition, e.block, e.block_offset, e.header_offset):
            res.unproven.append({"path": e.path, "barcode": self.label, "reason": (
                "the catalog has no position for it on this cartridge: restore it with 'lto-archive restore' "
                "and a pattern, which reads its tape file from the start")})
            self.tracker.file_done()
            return
        try:
            member_at = self._format(e).member_at
            if member_at is not None:      # read straight at the position (AXF: its file header frame)
                self._cursor = None
                member = _Member(*member_at(self.device, e.partition, e.block, e.block_offset, e.path))
                chunks = self._records(member.size, e)
            else:
                member, chunks = self._reader_member(e)
            if member.path.rstrip("/") != e.path or member.kind != "file" or member.size != e.size:
                self._cursor = None
                self._failed(res, e, f"at tape file {e.tape_file} block {e.block} the tape holds "
                                     f"{member.kind} {member.path!r} ({member.size} bytes), not this file "
                                     f"({e.size} bytes): the catalog does not match this cartridge (run "
                                     f"'lto-archive catalog import' with it loaded)")
                return
            seen = MemberSeen(e.path, "file", member.size, member.mtime_ns / 1e9,
                              e.tape_file, e.block, e.block_offset)  # type: ignore[arg-type]
            res.members.append(seen)
            self._write(res, e, seen, chunks, member.mode & 0o777, member.mtime_ns)
        except _MEDIA_ERRORS as exc:
            self._cursor = None
            self._failed(res, e, f"cannot be read from tape file {e.tape_file} at block {e.block}: "
                                 f"{getattr(exc, 'message', exc)}")
        except LookupError as exc:      # an unknown format name in the catalog
            self._cursor = None
            self._failed(res, e, str(exc))
        finally:
            self.tracker.file_done()

    def _goto(self, partition: int, block: int) -> None:
        pos = self.device.position()
        if (pos.partition, pos.block) != (partition, block):
            self.device.locate(partition, block)

    @staticmethod
    def _format(e: "PlanEntry") -> Any:
        """The catalogued copy's tape-file format (LookupError: a format this version does not know)."""
        from ..formats.registry import get_format
        from ..errors import UsageError
        try:
            return get_format(e.format)
        except UsageError as exc:
            raise LookupError(exc.message) from None

    def _reader_member(self, e: "PlanEntry") -> tuple[_Member, Iterator[Any]]:
        from ..formats.tapefile import TapeFileReader

        cur = self._cursor
        self._cursor = None
        if (cur is not None and cur.tape_file == e.tape_file and cur.format == e.format
                and 0 <= e.header_offset - cur.stream.tell() <= self.read_through):
            try:
                while True:
                    m = cur.reader.next()
                    if m is None or m.header_offset > e.header_offset:
                        break
                    if m.header_offset == e.header_offset:
                        self._cursor = cur
                        return self._as_member(m), cur.reader.iter_data(m)
            except _MEDIA_ERRORS:
                pass            # damage between the two: locate straight to it instead
        fmt = self._format(e)
        record_start = e.header_offset - e.block_offset          # type: ignore[operator]
        rs = e.record_size or 0
        self._goto(e.partition, e.block)                         # type: ignore[arg-type]
        stream = TapeFileReader(self.device, start_block=e.block, partition=e.partition,
                                base_offset=record_start, base_record=record_start // rs if rs else 0)
        if e.block_offset and stream.skip(e.block_offset) < e.block_offset:
            raise CorruptArchive(f"the record at block {e.block} ends before offset {e.block_offset}, where the "
                                 f"catalog says {e.path!r} starts")
        reader = fmt.reader(stream)
        m = reader.next()
        if m is None:
            raise CorruptArchive(f"the archive ends at block {e.block}, where the catalog says {e.path!r} starts")
        self._cursor = _Cursor(e.tape_file, e.format, stream, reader)   # type: ignore[arg-type]
        return self._as_member(m), reader.iter_data(m)

    @staticmethod
    def _as_member(m: Any) -> _Member:
        return _Member(m.path, m.kind, m.size, m.mode, m.mtime_ns)

    def _records(self, size: int, e: "PlanEntry") -> Iterator[memoryview]:
        """`size` bytes from the records starting at the current position (AXF data starts on a record)."""
        left = size
        while left > 0:
            try:
                rec = self.device.read_record(MAX_RECORD)
            except EndOfData:
                raise CorruptArchive(f"the tape ends inside {e.path!r} after {size - left} of {size} bytes") from None
            if not rec:
                raise CorruptArchive(f"a filemark inside {e.path!r} after {size - left} of {size} bytes: "
                                     f"the tape file is cut short")
            view = memoryview(rec)[:left]
            left -= len(view)
            yield view

    def _write(self, res: CartridgeFileResult, e: "PlanEntry", seen: MemberSeen, chunks: Iterable[Any], mode: int,
               mtime_ns: int | None) -> None:
        """Restore one file through the target, hashing the same bytes; then judge it against the catalog."""
        algorithms = tuple(a for a in e.hashes if a in ALGORITHMS) or DEFAULT_ALGORITHMS
        try:
            out = self.target.open_file(e.path, mode, mtime_ns=mtime_ns)
        except (UnsafePath, RestoreConflict) as exc:
            self._refuse(res, e.path, exc)
            return
        with out:       # leaving it without commit (damage, error, a failed check) removes the partial file
            seen.hashes, n = hash_chunks(chunks, algorithms, self.tracker, out)
            if not self._judge(res, e, seen, n):
                return      # FAILED: never under its real name
            try:
                out.commit()
            except (UnsafePath, RestoreConflict) as exc:   # appeared meanwhile: never clobbered
                self._refuse(res, e.path, exc)
                return
        res.restored.append(e.path)

    def _judge(self, res: CartridgeFileResult, e: "PlanEntry", seen: MemberSeen, n: int) -> bool:
        """Judge one file read back against the catalog; False when it FAILED."""
        if n != e.size:
            self._failed(res, e, f"{n} bytes read back, {e.size} expected")
            return False
        known = {a: h for a, h in e.hashes.items() if a in ALGORITHMS}
        bad = {a: (h, seen.hashes.get(a)) for a, h in known.items() if seen.hashes.get(a) != h.lower()}
        if bad:
            a, (want, have) = next(iter(bad.items()))
            self._failed(res, e, f"{a} mismatch", algorithm=a, expected=want, actual=have)
            return False
        elif e.status != OK:
            res.unproven.append({"path": e.path, "barcode": self.label,
                                 "reason": f"{e.status} when written: restored as read, not proven"})
        elif not known:
            res.unproven.append({"path": e.path, "barcode": self.label,
                                 "reason": "the catalog holds no checksum for it: restored as read, not proven"})
        else:
            res.verified.append(e.path)
            res.proven_by[e.path] = f"catalog {'+'.join(sorted(known))}"
        return True

    # --- LTFS ----------------------------------------------------------------------------------
    def _ltfs(self, entries: list["PlanEntry"]) -> None:
        from ..formats.ltfs.index import MODIFY, File
        from ..formats.ltfs.volume import partition_of
        from ..formats.registry import LTFS
        from .ltfs_read import read_file_bytes

        res = self._result(0, LTFS.name, index=True)
        self._open_volume()
        state = self._volume
        ix, bs = state.index, state.block_size
        todo = []
        for e in entries:
            node = ix.lookup(e.path)
            if not isinstance(node, File) or node.symlink is not None:
                self.tracker.file_started(e.path)
                self._failed(res, e, "not on this LTFS volume any more (its current index has no such file): "
                                     "the catalog is out of date (run 'lto-archive catalog import' with it loaded)")
                self.tracker.file_done()
                continue
            first = min(node.extents, key=lambda x: x.file_offset) if node.extents else None
            where = (partition_of(first.partition), first.start_block) if first is not None else (-1, -1)
            todo.append((where, e.path, e, node))
        todo.sort(key=lambda t: (t[0], t[1]))
        for (part, block), _, e, node in todo:
            self.tracker.file_started(e.path)
            try:
                split_member_path(e.path)
            except UnsafePath as exc:
                self._refuse(res, e.path, exc)
                self.tracker.file_done()
                continue
            mtime_ns = node.time_ns(MODIFY)
            seen = MemberSeen(e.path, "file", node.length, mtime_ns / 1e9, 0, max(block, 0), 0)
            res.members.append(seen)
            try:
                self._write(res, e, seen, read_file_bytes(self.device, node, bs), 0o644, mtime_ns)
            except _MEDIA_ERRORS as exc:
                self._failed(res, e, f"cannot be read from the LTFS volume at block {block}: "
                                     f"{getattr(exc, 'message', exc)}")
            finally:
                self.tracker.file_done()
