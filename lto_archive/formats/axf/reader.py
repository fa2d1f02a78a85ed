"""A strict, streaming reader of one AXF-style tape file, and the volume probe for appending.

    reader = AxfReader(stream)          # any binary stream: read()/readinto() or read_view()
    for member in reader:               # Member (member.py), in tape order, as TarReader yields
        for chunk in reader.iter_data(member):
            ...

It follows the grammar of docs/formats/axf-style.md and checks every frame's
two CRCs, that each file footer matches its header, and that the object
footer lists exactly the members read. Any damage is a CorruptArchive naming
the byte offset (and the member before it); every member before the damage
has been yielded, so it can still be restored. Recovering what lies after
damage is the scanner's job (scan.py), not this reader's.

After a member's data, its file footer is read when the reader moves on
(`next()`): `member.footer` (= `member.extra.footer`) holds it (checksums of the bytes written) from then on.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Iterator

from ...errors import ArchiveError, CorruptArchive, DeviceError, EndOfData
from ...tape.device import MAX_RECORD, TapeDevice
from ..member import AxfExtra, Member
from ..member_stream import DEFAULT_CHUNK, MemberStreamReader
from .payloads import ObjectFooter, ObjectHeader, VolumeFooter, VolumeHeader, VolumeIdentity, parse_payload
from .structures import (ALIGN, FLAG_CONTINUED, FLAG_CONTINUES, HEADER_SIZE, MAGIC, FileHeader, Frame,
                         FrameType, check_payload, parse_frame_header)
from .writer import VolumeState

__all__ = ["AxfMember", "AxfReader", "probe_volume", "read_frame_at"]



#: what AxfReader yields: the Member all readers share, with AXF's own fields as its extra
AxfMember = Member[AxfExtra]


class AxfReader(MemberStreamReader[AxfExtra]):
    """Iterate over the members of one AXF-style tape file read from `stream`.

    After iteration: `ended_cleanly` (the volume footer was read), `signature`,
    `volume_header`, `objects` (ObjectHeader), `object_footers`, `volume_footer`.
    """

    def __init__(self, stream: BinaryIO | Any, *, start_offset: int | None = None, drain: bool = True) -> None:
        self._open_stream(stream, start_offset)
        self._drain = drain
        self.rs = 0                       # the record size R, from the first frame
        self.signature: dict[str, str] | None = None
        self.volume_header: VolumeHeader | None = None
        self.objects: list[ObjectHeader] = []
        self.object_footers: list[ObjectFooter] = []
        self.volume_footer: VolumeFooter | None = None
        self.ended_cleanly = False
        self.members_read = 0
        self._state = "start"             # start | between | object | done
        self._object: ObjectHeader | None = None
        self._object_uuid = b""
        self._members: list[AxfMember] = []   # of the current object
        self._current: AxfMember | None = None
        self._cur_header: FileHeader | None = None
        self._remaining = 0
        self._data_started = False
        self._error: ArchiveError | None = None

    # --- stream access -------------------------------------------------------------
    def _read_some(self, n: int) -> bytes:
        """Up to n bytes, always as bytes (the frame parsers slice and compare them)."""
        return bytes(super()._read_some(n))

    def _where(self) -> str:
        rec = f", record {(self._pos - self._start) // self.rs}" if self.rs else ""
        return f"byte {self._pos}{rec}"

    def _corrupt(self, message: str, **data: Any) -> CorruptArchive:
        last = self._members[-1].path if self._members else None
        after = f" (after {last!r})" if last is not None else ""
        e = CorruptArchive(message + after, offset=self._pos, path=last, **data)
        self._error = e
        return e

    def _to_record_boundary(self, what: str) -> None:
        if not self.rs:
            return
        rest = -(self._pos - self._start) % self.rs
        if rest and self._skip(rest) < rest:
            raise self._corrupt(f"the tape file ends in the padding before {what} (at {self._where()}): "
                                f"it is truncated")

    def _read_frame(self, what: str, *, packed: bool) -> tuple[Frame, Any]:
        """The next frame. `packed`: it may follow at the next 512-byte boundary, or after
        zero padding at the next record boundary; otherwise it must start right here."""
        if packed:
            rest = -(self._pos - self._start) % ALIGN
            if rest and self._skip(rest) < rest:
                raise self._corrupt(f"the tape file ends before {what} (at {self._where()}): it is truncated")
        where = self._where()
        at_record = not self.rs or (self._pos - self._start) % self.rs == 0
        head = self._read_some(HEADER_SIZE)
        if packed and not at_record and head and head[0] == 0:
            self._to_record_boundary(what)
            where = self._where()
            head = self._read_some(HEADER_SIZE)
        if not head:
            raise self._corrupt(f"the tape file ends at {where} where {what} was expected: it is truncated",
                                reason="truncated")
        if head[:8] != MAGIC and not head.strip(b"\0") and len(head) == HEADER_SIZE:
            raise self._corrupt(f"zeros at {where} where {what} was expected: the record is damaged "
                                f"(run 'lto-archive axf scan' to recover what is intact)", reason="no-magic")
        try:
            frame = parse_frame_header(head, where=where)
            if not self.rs:
                self.rs = frame.record_size
            elif frame.record_size != self.rs:
                raise CorruptArchive(f"AXF structure at {where} names record size {frame.record_size}, "
                                     f"the tape file began with {self.rs}", reason="header")
            extra = frame.header_length - HEADER_SIZE
            if extra and self._skip(extra) < extra:
                raise CorruptArchive(f"AXF structure at {where} is cut short", reason="truncated")
            payload = check_payload(frame, self._read_some(frame.payload_length), where=where)
            return frame, parse_payload(frame, payload, where=where)
        except CorruptArchive as exc:
            raise self._corrupt(exc.message + "; run 'lto-archive axf scan' to recover what is intact",
                                **exc.data) from None

    # --- iteration -------------------------------------------------------------------
    def next(self) -> AxfMember | None:
        if self._error is not None:
            raise self._error
        if self._state == "done":
            return None
        try:
            self._finish_current()
            return self._advance()
        except ArchiveError as e:
            self._error = e
            raise

    def _advance(self) -> AxfMember | None:
        while True:
            if self._state == "done":
                return None
            if self._state == "start":
                frame, body = self._read_frame("an AXF volume signature or object header", packed=False)
                if frame.type == FrameType.VOLUME_SIGNATURE:
                    self.signature = body
                    self._to_record_boundary("the volume header")
                    frame, body = self._read_frame("the AXF volume header", packed=False)
                    if frame.type != FrameType.VOLUME_HEADER:
                        raise self._corrupt(f"a {frame.type_name} follows the volume signature where the "
                                            f"volume header belongs")
                    self.volume_header = body
                    self._state = "between"
                    continue
                self._state = "between"
                self._between(frame, body)
                continue
            if self._state == "between":
                self._to_record_boundary("the next object")
                frame, body = self._read_frame("an object header or the volume footer", packed=False)
                if self._between(frame, body):
                    return None
                continue
            # in an object: a file header, or the object footer
            frame, body = self._read_frame("a file header or the object footer", packed=True)
            if frame.object_uuid != self._object_uuid:
                raise self._corrupt(f"the {frame.type_name} at byte {self._pos - frame.total_length} belongs to "
                                    f"another object ({frame.object_id})")
            if frame.type == FrameType.OBJECT_FOOTER:
                self._check_object_footer(body)
                self.object_footers.append(body)
                self._state = "between"
                continue
            if frame.type != FrameType.FILE_HEADER:
                raise self._corrupt(f"unexpected {frame.type_name} at byte {self._pos - frame.total_length}")
            return self._member(frame, body)

    def _between(self, frame: Frame, body: Any) -> bool:
        """An object header (True: the tape file's volume footer, the end)."""
        if frame.type == FrameType.OBJECT_HEADER:
            self._object = body
            self._object_uuid = frame.object_uuid
            self.objects.append(body)
            self._members = []
            self._state = "object"
            return False
        if frame.type == FrameType.VOLUME_FOOTER:
            self.volume_footer = body
            self._state = "done"
            self.ended_cleanly = True
            if self._drain:
                skip_to_end = getattr(self._stream, "skip_to_end", None)
                if skip_to_end is not None:
                    self._pos += skip_to_end()
                else:
                    while self._skip(DEFAULT_CHUNK):
                        pass
            return True
        raise self._corrupt(f"unexpected {frame.type_name} at byte {self._pos - frame.total_length} "
                            f"(expected an object header or the volume footer)")

    def _member(self, frame: Frame, h: FileHeader) -> AxfMember:
        if frame.sequence != len(self._members):
            raise self._corrupt(f"file header number {frame.sequence} where number {len(self._members)} "
                                f"was expected: a member is missing")
        spanned = h.kind == "file" and bool(h.flags & (FLAG_CONTINUES | FLAG_CONTINUED))
        if h.kind == "file" and not spanned and (h.segment_offset or h.segment_size != h.size):
            raise self._corrupt(f"{h.path!r}: a segment ({h.segment_offset}+{h.segment_size} of {h.size} bytes) "
                                f"without the flags of a spanned file: the header is inconsistent", reason="segment")
        header_offset = self._pos - frame.total_length
        if h.kind == "file" and h.segment_size:
            self._to_record_boundary(f"the data of {h.path!r}")
        extra = AxfExtra(seq=frame.sequence, object_uuid=frame.object_id or "", algorithms=h.algorithms,
                         file_size=h.size if h.kind == "file" else 0, continues=bool(h.flags & FLAG_CONTINUES))
        m = Member(path=h.path, kind=h.kind, size=(h.segment_size or 0) if h.kind == "file" else 0,
                   mode=h.mode & 0o7777, mtime=h.mtime_ns / 1e9, mtime_ns=h.mtime_ns, extra=extra, uid=h.uid,
                   gid=h.gid, linkname=h.linkname, header_offset=header_offset, data_offset=self._pos,
                   part_offset=h.segment_offset if spanned else None)
        self._members.append(m)
        self.members_read += 1
        self._current = m
        self._cur_header = h
        self._remaining = m.size
        self._data_started = False
        return m

    def _finish_current(self) -> None:
        m = self._current
        if m is None:
            return
        self._current = None
        if self._remaining:
            done = m.size - self._remaining
            got = self._skip(self._remaining)
            if got < self._remaining:
                raise self._corrupt(f"the tape file ends inside {m.path!r} after {done + got} of {m.size} bytes "
                                    f"(at byte {self._pos}): it is truncated", expected=m.size, actual=done + got)
            self._remaining = 0
        if m.kind != "file":
            return
        if m.size:
            self._to_record_boundary(f"the file footer of {m.path!r}")
        frame, f = self._read_frame(f"the file footer of {m.path!r}", packed=not m.size)
        if frame.type != FrameType.FILE_FOOTER or frame.sequence != m.extra.seq or frame.object_uuid != self._object_uuid:
            raise self._corrupt(f"a {frame.type_name} follows the data of {m.path!r} where its file footer belongs")
        if f.path != m.path or f.size != m.extra.file_size or (f.segment_offset, f.segment_size) != (
                m.part_offset or 0, m.size) or (f.flags ^ (self._cur_header.flags if self._cur_header else 0)) & 3:
            raise self._corrupt(f"the file footer after {m.path!r} names {f.path!r} ({f.size} bytes, segment "
                                f"{f.segment_offset}+{f.segment_size}): the archive is inconsistent")
        m.extra.footer = f

    def _check_object_footer(self, footer: ObjectFooter) -> None:
        listed = [(e.seq, e.path, e.kind) for e in footer.entries]
        read = [(m.extra.seq, m.path, m.kind) for m in self._members]
        if listed != read:
            raise self._corrupt(f"the object footer lists {len(listed)} members, {len(read)} were read, or they "
                                f"differ: the archive is inconsistent")

    # --- data --------------------------------------------------------------------------
    def iter_data(self, member: AxfMember, chunk_size: int = DEFAULT_CHUNK) -> Iterator[memoryview | bytes]:
        """member.size bytes of the member last returned, in chunks (memoryviews of the
        tape records when the stream has read_view). Read it right after the member, once."""
        if member is not self._current or self._data_started:
            raise ValueError(f"the data of {member.path!r} is no longer available: read it right after the "
                             f"member is returned, once")
        self._data_started = True
        while self._remaining:
            want = min(chunk_size, self._remaining)
            chunk = self._view(want) if self._view is not None else self._read(want)
            k = len(chunk) if chunk is not None else 0
            if not k:
                done = member.size - self._remaining
                self._current = None
                raise self._corrupt(f"the tape file ends inside {member.path!r} after {done} of {member.size} "
                                    f"bytes (at byte {self._pos}): it is truncated",
                                    expected=member.size, actual=done)
            self._remaining -= k
            self._pos += k
            yield chunk



# --- reading frames straight from a device (probe, scanner) ---------------------------

def read_frame_at(device: TapeDevice, partition: int, block: int, offset: int = 0) -> tuple[Frame, Any, int]:
    """The frame starting `offset` bytes into record `block`: (frame, decoded payload,
    records it touched). CorruptArchive when it is not a whole, intact frame."""
    device.locate(partition, block)
    where = f"block {block} offset {offset}"
    buf = bytearray()
    records = 0
    need = offset + HEADER_SIZE
    frame: Frame | None = None
    while len(buf) < need:
        try:
            rec = device.read_record(MAX_RECORD)
        except EndOfData:
            rec = b""
        if not rec:
            break
        buf += rec
        records += 1
        if frame is None and len(buf) >= offset + HEADER_SIZE:
            frame = parse_frame_header(buf[offset:offset + HEADER_SIZE], where=where)
            need = offset + frame.total_length
    if frame is None:
        frame = parse_frame_header(buf[offset:offset + HEADER_SIZE], where=where)
    start = offset + frame.header_length
    payload = check_payload(frame, buf[start:start + frame.payload_length], where=where)
    return frame, parse_payload(frame, payload, where=where), records


def _continuation(rec: bytes, last: bool) -> bool:
    """Could this record be the middle (or, `last`, the end) of an XML payload? Text holds no NUL;
    only the final record ends in zero padding."""
    if last:
        rec = rec.rstrip(b"\0")
        return bool(rec)
    return b"\0" not in rec


def probe_volume(device: TapeDevice, *, max_footer_bytes: int = 64 << 20) -> VolumeState:
    """What the volume being appended to says about itself; leaves the device at end of data.

    From the volume footer at the end of the previous tape file (the newest, cumulative
    one); when that is missing or damaged, from the volume signature and header at the
    start of the partition (objects then marked incomplete); else a new volume.
    """
    pos = device.position()
    p = pos.partition
    try:
        device.seek_eod()
        eod = device.position().block
        return _probe(device, p, eod, max_footer_bytes)
    except (ArchiveError, DeviceError) as exc:
        return VolumeState(notes=[f"could not read the volume being appended to ({exc}): a new volume begins"])
    finally:
        device.locate(p, 0)
        device.seek_eod()


def _probe(device: TapeDevice, p: int, eod: int, max_footer_bytes: int) -> VolumeState:
    if eod == 0:
        return VolumeState()
    notes: list[str] = []
    tail = eod - 1
    device.locate(p, tail)
    try:
        first = device.read_record(MAX_RECORD)
    except EndOfData:
        first = b""
    if first == b"":          # the filemark that ended the previous tape file
        tail -= 1
    b = tail
    limit = max(1, max_footer_bytes // 4096)
    while b >= 0 and tail - b < limit:
        device.locate(p, b)
        try:
            rec = device.read_record(MAX_RECORD)
        except EndOfData:
            break
        if not rec:
            break
        if rec[:8] == MAGIC:
            try:
                frame, body, _ = read_frame_at(device, p, b)
            except CorruptArchive as exc:
                notes.append(f"the previous volume footer is damaged ({exc.message})")
                break
            if frame.type == FrameType.VOLUME_FOOTER:
                return VolumeState(body.identity, list(body.objects), body.complete, notes)
            break
        if not _continuation(rec, last=b == tail):
            break
        b -= 1
    # no footer: the signature and header at the start of the partition, if this is an AXF volume
    try:
        frame, sig, _ = read_frame_at(device, p, 0)
    except CorruptArchive:
        return VolumeState(notes=notes + ["the tape holds no readable AXF volume signature: a new volume begins "
                                          "in this tape file"])
    if frame.type != FrameType.VOLUME_SIGNATURE:
        return VolumeState(notes=notes + ["the tape does not begin with an AXF volume: a new volume begins "
                                          "in this tape file"])
    identity = VolumeIdentity(volume_uuid=sig.get("volume-uuid", ""), collection_uuid=sig.get("collection-uuid", ""),
                              sequence=int(sig.get("sequence", "1") or 1), created=sig.get("created", ""),
                              creator=sig.get("creator", ""), record_size=int(sig.get("record-size", "0") or 0))
    try:
        frame, vh, _ = read_frame_at(device, p, 1)
        if frame.type == FrameType.VOLUME_HEADER:
            identity = vh.identity
    except CorruptArchive as exc:
        notes.append(f"the volume header is damaged ({exc.message}); identity from the volume signature")
    notes.append("no readable volume footer at the end of the previous tape file: this session's volume "
                 "footer lists only its own object (complete=\"false\")")
    return VolumeState(identity, [], False, notes)

