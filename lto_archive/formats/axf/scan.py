"""Recovery without any index: read the tape record by record and prove every file found.

    report = scan_volume(device, dest=Path("/restore/here"))
    report.files            # every file found or listed: proven / failed / unproven / missing
    report.damaged          # the regions where no valid structure was where one belonged

The scanner follows the grammar of docs/formats/axf-style.md while the tape
is intact, and resynchronises after damage by looking for the frame magic at
every 512-byte boundary of every record, accepting a structure only when both
of its CRC-32s are right. A file is *proven* only when the checksums of the
bytes read back equal the checksums written with it: by its own file footer,
or (when that footer is damaged) by the object footer's list. When a file
header is lost, its footer still says how long the data was, and the data is
the records right before the footer: they are read again and proven the same
way. Nothing unproven is ever restored: files are written under a temporary
name and renamed into place only once their checksums match.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ...errors import CorruptArchive
from ...hashing import ALGORITHMS, MultiHasher
from ...manifest import CHANGED, MANIFEST_MEMBER, OK, READ_ERROR
from ...restore_target import RestoreTarget
from ...tape.device import TapeDevice
from .payloads import VolumeFooter, parse_payload
from .record_cache import BAD, RecordCache
from .scan_restore import ScanRestorer
from .scan_report import FAILED, MISSING, PROVEN, UNPROVEN, Damage, ScannedFile, ScannedObject, ScanReport
from .structures import (ALIGN, FLAG_CONTINUED, FLAG_CONTINUES, HEADER_SIZE, MAGIC, FileFooter, FileHeader, Frame,
                         FrameType, check_payload, parse_frame_header)

__all__ = ["scan_volume", "ScanReport", "ScannedFile", "ScannedObject", "Damage", "PROVEN", "FAILED", "UNPROVEN",
           "MISSING"]

_MAX_MANIFEST = 256 << 20


class _Scanner:
    def __init__(self, device: TapeDevice, partition: int, target: RestoreTarget | None) -> None:
        self.recs = RecordCache(device, partition)
        self.report = ScanReport()
        self.restorer = ScanRestorer(target, self.report) if target is not None else None
        self.objects: dict[str, ScannedObject] = {}
        self.tape_file = 0
        self.tf_start = 0
        self.damage: Damage | None = None
        self.last_footer: VolumeFooter | None = None

    # --- bytes across records ------------------------------------------------------------
    def read_bytes(self, block: int, off: int, n: int) -> tuple[bytes, int, int]:
        """Up to n bytes from (block, off), crossing records of this tape file; and the position after."""
        out = bytearray()
        while len(out) < n:
            rec = self.recs.get(block)
            if rec is None or rec is BAD or rec == b"":
                break
            take = rec[off:off + n - len(out)]
            out += take
            off += len(take)
            if off >= len(rec):
                block, off = block + 1, 0
        return bytes(out), block, off

    def frame_at(self, block: int, off: int) -> tuple[Frame, Any, int, int]:
        where = f"tape file {self.tape_file}, block {block}, offset {off}"
        head, b, o = self.read_bytes(block, off, HEADER_SIZE)
        frame = parse_frame_header(head, where=where)
        if frame.header_length > HEADER_SIZE:
            _, b, o = self.read_bytes(b, o, frame.header_length - HEADER_SIZE)
        payload, b, o = self.read_bytes(b, o, frame.payload_length)
        payload = check_payload(frame, payload, where=where)
        return frame, parse_payload(frame, payload, where=where), b, o

    def next_structure(self, block: int, off: int, rs: int) -> tuple[int, int]:
        """Where the next structure may begin after one ending at (block, off)."""
        off = -(-off // ALIGN) * ALIGN
        rec = self.recs.get(block)
        if isinstance(rec, bytes) and 0 < off < len(rec) and rec[off] != 0:
            return block, off
        return (block + 1, 0) if off else (block, 0)

    # --- damage --------------------------------------------------------------------------
    def lost(self, block: int, off: int, message: str) -> None:
        if self.damage is None:
            self.damage = Damage(self.tape_file, block, off, message)
            self.report.damaged.append(self.damage)

    def found(self, block: int) -> None:
        if self.damage is not None:
            self.damage.records = max(0, block - self.damage.block)
            self.damage.resumed_at = block
            self.damage = None

    # --- the walk --------------------------------------------------------------------------
    def run(self) -> ScanReport:
        block, off, searching = 0, 0, False
        while True:
            rec = self.recs.get(block)
            if rec is None:
                break
            if rec == b"":                       # a filemark: the tape file ends
                self.end_tape_file(block)
                block, off, searching = block + 1, 0, False
                continue
            if rec is BAD:
                self.lost(block, 0, f"record unreadable: {self.recs.errors.get(block, '')}")
                block, off, searching = block + 1, 0, True
                continue
            if off >= len(rec):
                block, off = block + 1, 0
                continue
            if not searching:
                if off and rec[off] == 0:        # padding to the end of the record
                    block, off = block + 1, 0
                    continue
                if block == self.tf_start and not off and rec[:8] != MAGIC:
                    foreign = _foreign_format(rec)
                    if foreign is not None:      # a TAR (or other) tape file on the same tape: not ours
                        self.report.notes.append(f"tape file {self.tape_file} is {foreign}, not AXF-style: skipped")
                        fm = self.recs.filemark_after(block)
                        if fm is None:
                            break
                        self.end_tape_file(fm)
                        block, off = fm + 1, 0
                        continue
                try:
                    block, off = self.handle(block, off)
                    continue
                except CorruptArchive as exc:
                    self.lost(block, off, exc.message if rec[off:off + 8] == MAGIC else
                              "no AXF structure where one belongs (the record is damaged or overwritten)")
                    searching = True
                    off += ALIGN
                    continue
            # searching: the magic at a 512-byte boundary with both CRCs right
            i = rec.find(MAGIC, off)
            while i >= 0 and i % ALIGN:
                i = rec.find(MAGIC, i + 1)
            if i < 0:
                block, off = block + 1, 0
                continue
            try:
                nb, no = self.handle(block, i)
            except CorruptArchive:
                off = i + ALIGN
                continue
            block, off, searching = nb, no, False
        self.end_tape_file(block, eod=True)
        self.report.records = self.recs.read_count
        return self.report

    def obj(self, frame: Frame) -> ScannedObject:
        uid = frame.object_id or ""
        o = self.objects.get(uid)
        if o is None or o.tape_file != self.tape_file:
            o = ScannedObject(uid, self.tape_file)
            self.objects[uid] = o
            self.report.objects.append(o)
        return o

    def handle(self, block: int, off: int) -> tuple[int, int]:
        """Parse and act on the structure at (block, off); return where to look next."""
        frame, body, b, o = self.frame_at(block, off)
        self.found(block)
        rs = frame.record_size
        t = frame.type
        if t == FrameType.VOLUME_SIGNATURE:
            self.report.volumes.append({"structure": "volume signature", "tape_file": self.tape_file, "block": block,
                                        **body})
        elif t == FrameType.VOLUME_HEADER:
            self.report.volumes.append({"structure": "volume header", "tape_file": self.tape_file, "block": block,
                                        **asdict(body.identity)})
            if self.restorer is not None:
                self.restorer.sequence = body.identity.sequence
        elif t == FrameType.VOLUME_FOOTER:
            self.volume_footer(block, body)
        elif t == FrameType.OBJECT_HEADER:
            o_ = self.obj(frame)
            o_.header, o_.header_block = body, block
        elif t == FrameType.OBJECT_FOOTER:
            o_ = self.obj(frame)
            o_.footer, o_.footer_block = body, block
            self.object_footer(o_)
        elif t == FrameType.FILE_HEADER:
            return self.file(frame, body, block, b, o, rs)
        elif t == FrameType.FILE_FOOTER:
            self.orphan_footer(frame, body, block, off, rs)
        return self.next_structure(b, o, rs)

    # --- files ----------------------------------------------------------------------------
    def file(self, frame: Frame, h: FileHeader, block: int, b: int, o: int, rs: int) -> tuple[int, int]:
        obj = self.obj(frame)
        f = ScannedFile(obj.uuid, frame.sequence, h.path, h.kind, h.size, self.tape_file, block,
                        linkname=h.linkname, mode=h.mode, mtime_ns=h.mtime_ns)
        if h.kind == "file" and h.flags & (FLAG_CONTINUES | FLAG_CONTINUED):
            f.segment_offset, f.segment_size = h.segment_offset, h.segment_size
            f.continues, f.continued = bool(h.flags & FLAG_CONTINUES), bool(h.flags & FLAG_CONTINUED)
        obj.files[frame.sequence] = f
        if h.kind != "file":
            if self.restorer is not None:
                self.restorer.restore_other(f)
            return self.next_structure(b, o, rs)
        seg = h.segment_size or 0
        if seg and o:
            b, o = b + 1, 0                      # data starts at a record boundary
        f._data_block, f._seg = b, seg
        keep = f.path == MANIFEST_MEMBER and seg <= _MAX_MANIFEST
        computed, got, db, do, kept, out = self.read_data(f, b, seg, h.algorithms, keep=keep)
        if seg:
            fb, fo = (db + 1, 0) if do else (db, 0)  # the footer starts the record after the data
        else:
            fb, fo = self.next_structure(b, o, rs)
        if got < seg:
            _abort(out)
            f.status, f.reason = FAILED, f"its data ends after {got} of {seg} bytes (unreadable or truncated)"
            return fb, fo
        f._computed = computed
        try:
            frame2, footer, nb, no = self.frame_at(fb, fo)
        except CorruptArchive as exc:
            _abort(out)
            self.lost(fb, fo, f"the file footer of {f.path!r}: {exc.message}")
            f.status, f.reason = UNPROVEN, "its file footer is damaged and nothing else proves it"
            return fb, fo + ALIGN
        if frame2.type != FrameType.FILE_FOOTER or frame2.sequence != f.seq or frame2.object_uuid != frame.object_uuid:
            _abort(out)
            self.lost(fb, fo, f"a {frame2.type_name} where the file footer of {f.path!r} belongs")
            f.status, f.reason = UNPROVEN, "its file footer is missing and nothing else proves it"
            return fb, fo
        self.judge(f, footer, "file footer", out)
        if f.status == PROVEN and kept is not None:
            obj.manifest = kept
        return self.next_structure(nb, no, rs)

    def read_data(self, f: ScannedFile, block: int, n: int, algorithms: tuple[str, ...] | list[str], *,
                  keep: bool = False) -> tuple[dict[str, str], int, int, int, bytes | None, Any]:
        """Hash n bytes from the start of record `block` and, when restoring, write them under a
        temporary name (committed by judge() only if proven). Returns (checksums computed, bytes
        read, block and offset after them, the bytes if `keep`, the RestoreFile or None)."""
        hasher = MultiHasher([a for a in algorithms if a in ALGORITHMS])
        out = self.restorer.open(f) if self.restorer is not None and not f.restored else None
        kept = bytearray() if keep else None
        got, off = 0, 0
        try:
            while got < n:
                rec = self.recs.get(block)
                if rec is None or rec is BAD or rec == b"":
                    break
                piece = memoryview(rec)[:n - got]
                hasher.update(piece)
                if out is not None:
                    out.write(piece)
                if kept is not None:
                    kept += piece
                got += len(piece)
                if len(piece) < len(rec):
                    off = len(piece)
                    break
                block += 1
        except BaseException:
            _abort(out)
            raise
        return hasher.hexdigests(), got, block, off, bytes(kept) if kept is not None else None, out

    def judge(self, f: ScannedFile, footer: Any, proof: str, out: Any = None) -> None:
        """Compare what was read with the checksums written; commit the restored file only if equal."""
        sums = footer.checksums
        f.checksums = dict(sums)
        known = {a: h for a, h in sums.items() if a in ALGORITHMS}
        seg = footer.segment_size
        computed = f._computed or {}
        if footer.copied < seg:
            f.status, f.reason = UNPROVEN, (f"when written, the source gave only {footer.copied} of {seg} bytes "
                                            f"({footer.message or 'read error'})")
        elif not known:
            f.status, f.reason = UNPROVEN, f"no checksum this reader knows ({', '.join(sums) or 'none'})"
        else:
            bad = [a for a, h in known.items() if computed.get(a) != h]
            if bad:
                f.status, f.reason = FAILED, f"{bad[0]} mismatch: its data on tape is damaged"
            else:
                f.status, f.reason, f.proof = PROVEN, "", proof
        if out is None:
            return
        if f.status != PROVEN:
            out.abort()
            return
        assert self.restorer is not None
        self.restorer.commit(f, out, dict(getattr(footer, "file_checksums", None) or {}))

    def orphan_footer(self, frame: Frame, footer: FileFooter, block: int, off: int, rs: int) -> None:
        """A file footer whose header was lost: its data is the records right before it."""
        obj = self.obj(frame)
        f = obj.files.get(frame.sequence)
        if f is not None and f.status in (PROVEN, FAILED):
            return
        seg = footer.segment_size
        n = -(-seg // rs)
        if f is None:
            f = ScannedFile(obj.uuid, frame.sequence, footer.path, "file", footer.size, self.tape_file, block,
                            mode=footer.mode, mtime_ns=footer.mtime_ns)
            obj.files[frame.sequence] = f
        if seg and (off or block - n < self.tf_start):
            f.status, f.reason = UNPROVEN, "its file header is lost and its data cannot be located"
            return
        f._data_block, f._seg = block - n, seg
        f._computed, got, _, _, _, out = self.read_data(f, block - n, seg, tuple(footer.checksums))
        if got < seg:
            _abort(out)
            f.status, f.reason = FAILED, f"its data (the records before its footer) ends after {got} of {seg} bytes"
            return
        self.judge(f, footer, "file footer (its header is lost)", out)

    def object_footer(self, obj: ScannedObject) -> None:
        """Cross-check with the object footer: prove files whose own footer was lost; find the missing."""
        footer = obj.footer
        assert footer is not None
        for e in footer.entries:
            f = obj.files.get(e.seq)
            if f is None:
                f = ScannedFile(obj.uuid, e.seq, e.path, e.kind, e.size, obj.tape_file, None, linkname=e.linkname,
                                mode=e.mode, mtime_ns=e.mtime_ns, checksums=dict(e.checksums))
                obj.files[e.seq] = f
                if e.kind == "file" and e.size == 0 and (e.segment_size or 0) == 0:
                    # an empty file has no data to lose: its listed checksums prove the empty content
                    f._computed = MultiHasher([a for a in e.checksums if a in ALGORITHMS]).hexdigests()
                    out = self.restorer.open(f) if self.restorer is not None else None
                    self.judge(f, _Proof(e.checksums, e.copied, 0, e.message), "object footer (empty file)", out)
                elif e.kind == "file":
                    f.status, f.reason = MISSING, "listed in the object footer, not found (in a damaged region)"
                continue
            if e.kind == "file" and e.path == f.path:
                seg = e.size if e.segment_size is None else e.segment_size
                self.prove_pending(f, _Proof(e.checksums, e.copied, seg, e.message), "object footer")
        self.apply_manifest(obj)

    def prove_pending(self, f: ScannedFile, proof: "_Proof", source: str) -> None:
        """A file read back whose own footer was lost, proven by another list of its checksums;
        when restoring, it is read again (and proven again) into place."""
        if f.status != UNPROVEN or f._computed is None or f._data_block is None:
            return
        if proof.copied < proof.segment_size or proof.segment_size != f._seg:
            return
        out = None
        if self.restorer is not None and not f.restored:
            computed, got, _, _, _, out = self.read_data(f, f._data_block, f._seg, tuple(proof.checksums))
            if got < f._seg:
                _abort(out)
                return
            f._computed = computed
        self.judge(f, proof, source, out)

    def apply_manifest(self, obj: ScannedObject) -> None:
        """The object's own manifest.json (proven by its footer): a third list of checksums for
        files whose footers are lost, and the write job's verdicts (changed while read, read errors)."""
        if obj.manifest is None:
            return
        try:
            doc = json.loads(obj.manifest)
            records = {r["path"]: r for r in doc.get("files", []) if r.get("kind") == "file"}
        except (ValueError, TypeError, KeyError, AttributeError):
            return
        for f in obj.files.values():
            r = records.get(f.path)
            if r is None or f.kind != "file":
                continue
            st, msg = r.get("status", OK), r.get("message", "")
            if st == OK and r.get("hashes"):
                size = int(r.get("size", 0))
                self.prove_pending(f, _Proof(dict(r["hashes"]), size, size), "manifest.json")
            if f.status == PROVEN and st in (CHANGED, READ_ERROR):
                f.status, f.reason = UNPROVEN, f"the bytes on tape are proven, but the write job recorded: {st}: {msg}"

    def end_object(self, obj: ScannedObject) -> None:
        """At the end of its tape file: what an object without its footer leaves unproven."""
        if obj.ended:
            return
        obj.ended = True
        if obj.footer is not None:
            return
        for f in obj.files.values():
            if f.kind == "file" and f.status == "":
                f.status, f.reason = UNPROVEN, "no checksum to prove it"
        if obj.header is not None and obj.header.planned is not None:
            found = {f.path for f in obj.files.values()}
            for p in obj.header.planned:
                if p.kind == "file" and p.path not in found:
                    self.report.notes.append(
                        f"object {obj.uuid}: {p.path!r} was planned in the object header and not found "
                        f"(its object footer is lost: it was not written, or lies in a damaged region)")
        self.apply_manifest(obj)

    def volume_footer(self, block: int, vf: VolumeFooter) -> None:
        self.report.volumes.append({"structure": "volume footer", "tape_file": self.tape_file, "block": block,
                                    **asdict(vf.identity), "objects": len(vf.objects), "complete": vf.complete})
        self.last_footer = vf

    def end_tape_file(self, block: int, eod: bool = False) -> None:
        if self.damage is not None:
            self.damage.records = max(0, block - self.damage.block)
            self.damage = None
        for o in self.report.objects:
            if o.tape_file == self.tape_file:
                self.end_object(o)
        if not eod or block > self.tf_start:
            self.report.tape_files = self.tape_file + 1
        if not eod:
            self.tape_file += 1
            self.tf_start = block + 1
            return
        vf = self.last_footer
        if vf is not None:
            seen = {o.uuid for o in self.report.objects}
            for s in vf.objects:
                if s.object_uuid not in seen:
                    self.report.notes.append(f"object {s.object_uuid} (tape file {s.tape_file}) is listed in the "
                                             f"last volume footer but was not found")


@dataclass
class _Proof:
    """Checksums of a file from a list other than its own footer, in the shape judge() takes."""

    checksums: dict[str, str]
    copied: int
    segment_size: int
    message: str = ""


def _foreign_format(rec: bytes) -> str | None:
    from ..registry import detect_format      # (imported here: the registry imports this package)
    fmt = detect_format(rec)
    return fmt.name if fmt is not None and fmt.name != "axf" else None


def _abort(out: Any) -> None:
    if out is not None:
        out.abort()


def scan_volume(device: TapeDevice, *, dest: Path | None = None, overwrite: bool = False,
                partition: int | None = None) -> ScanReport:
    """Read the whole partition (every tape file) record by record; with `dest`, restore every
    proven file (and the folders and links found) into it, through RestoreTarget."""
    p = device.partitions - 1 if partition is None else partition
    target = RestoreTarget(Path(dest), overwrite=overwrite) if dest is not None else None
    try:
        report = _Scanner(device, p, target).run()
    finally:
        if target is not None:
            target.finish()
            target.close()
    return report
