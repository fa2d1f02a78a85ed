"""Writes one AXF-style object (one session, one tape file) into a RecordStream.

    [signature][volume header]        only in the tape file that begins the volume
    [object header]                   at a record boundary; planned file list
    [file header]                     packed: at the next 512-byte boundary
      data ... zero padding to R      regular files: data starts at a record boundary
    [file footer][file header] ...    the footer starts the record after the data
    [object footer]                   at a record boundary: every member with its checksums
    [volume footer]                   at a record boundary: supersedes the previous session's

The file footer carries the checksums of the bytes written, so the writer waits
for the hash thread once per file (`stream.flush_hashes()`): see the
specification (docs/formats/axf-style.md, "Writing") for the measured cost.

What belongs to a volume (signature, volume header, object header, object
footer, volume footer) is written to each device on its own
(`RecordStream.each_device`), so one pass fills several cartridges, each
with its own volume history; the members between are shared records. Each
structure of a volume stands alone in its record(s), so the first file
header begins a record (the 2.3 rule allows both).
"""

from __future__ import annotations

import stat as stat_mod
import uuid as uuid_mod
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from ...version import __version__
from ...hashing import DEFAULT_ALGORITHMS, MultiHasher, hash_bytes
from ...manifest import iso, utc_now
from ...streaming import DeviceStatus, RecordStream
from .payloads import (FooterEntry, ObjectFooter, ObjectHeader, ObjectSummary, PlannedFile, VolumeFooter, VolumeHeader,
                       VolumeIdentity, build_signature_text)
from .structures import ALIGN, FLAG_CONTINUED, FLAG_CONTINUES, VERSION, FileFooter, FileHeader, FrameType, build_frame

CREATOR = f"lto-archive {__version__}"
SPEC = "docs/formats/axf-style.md of lto-archive (an open container in the spirit of AXF; not SMPTE ST 2034-1)"


@dataclass
class VolumeState:
    """What a writer knows of the volume it appends to (see reader.probe_volume).

    `identity` None: this tape file begins a new volume (signature + volume header).
    `objects`: the objects already on the volume, from the newest volume footer found;
    `complete` False when that list may lack some (the footer could not be read).
    """

    identity: VolumeIdentity | None = None
    objects: list[ObjectSummary] = field(default_factory=list)
    complete: bool = True
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AxfPlacement:
    """Where a member landed (byte offsets from the start of the tape file)."""

    header_offset: int
    data_offset: int
    size: int
    copied: int
    read_error: OSError | None
    footer_offset: int = 0


class AxfWriter:
    """One AXF-style object in one tape file; the TarWriter interface plus `plan`.

    `metadata`: the user's key/value pairs for the object header (may also be
    set on `writer.metadata` before the first member is added).
    `volume`: what each device's volume says (one per device of the stream;
    one VolumeState or None for a single device). Offsets the writer returns
    are those of the first device's tape file; `leads[i]` is where the shared
    bytes begin in device i's tape file.
    """

    def __init__(self, stream: RecordStream, session: Any = None, *,
                 volume: VolumeState | list[VolumeState] | None = None,
                 metadata: dict[str, str] | None = None, creator: str = CREATOR) -> None:
        self.stream = stream
        self.rs = stream.record_size
        self.session = session
        n = len(stream.status)
        tapes = [d for d in getattr(session, "destinations", None) or [] if d.get("kind") == "tape"]
        self.tape_file: int | None = getattr(session, "tape_file", None)
        self.tape_files: list[int | None] = [d.get("tape_file") for d in tapes] if len(tapes) == n \
            else [self.tape_file] * n
        self._barcodes = [d.get("barcode") for d in tapes] if len(tapes) == n \
            else [getattr(session, "barcode", None)] * n
        self._devices = [d.get("device") for d in tapes] if len(tapes) == n else [None] * n
        self._session_ids = [d.get("session_id") for d in tapes] if len(tapes) == n else [None] * n
        algos = getattr(session, "algorithms", None)
        self.algorithms: tuple[str, ...] = tuple(algos) if algos else DEFAULT_ALGORITHMS
        self.creator = creator
        self.metadata: dict[str, str] = dict(metadata or {})
        self.planned: list[PlannedFile] | None = None
        self.object_uuid = uuid_mod.uuid4()
        self._oid = self.object_uuid.bytes
        volumes = volume if isinstance(volume, list) else [volume or VolumeState()] + \
            [VolumeState() for _ in range(n - 1)]
        if len(volumes) != n:
            raise ValueError("one VolumeState per device of the stream")
        self.volumes = volumes
        self.new_volumes = [v.identity is None for v in volumes]
        now = iso(utc_now())
        for v, tape_file, barcode in zip(volumes, self.tape_files, self._barcodes):
            if v.identity is None:
                v.identity = VolumeIdentity(
                    volume_uuid=str(uuid_mod.uuid4()), collection_uuid=str(uuid_mod.uuid4()), sequence=1,
                    created=now, creator=creator, label=barcode or "", first_tape_file=tape_file or 0,
                    record_size=self.rs)
        self.volume = volumes[0]
        self.new_volume = self.new_volumes[0]
        self.identity: VolumeIdentity = self._identity(0)
        self.leads = [0] * n
        self.created = getattr(session, "started", None) or now
        self.entries: list[FooterEntry] = []
        self._seq = 0
        self._started = False
        self.closed = False
        self.part, self.continued_from = 1, ""      # span sets (join_collection)
        self.continued_froms = [""] * n             # ... per device: each set's previous volume
        self.object_continues = False               # end_volume: the object goes on in the next volume
        # ... and so does the volume's collection (a list: per device, one span set per drive)
        self.collection_continues: bool | list[bool] = False
        self._segment: tuple[int, FileHeader, int, int] | None = None

    # --- span sets: one object over the volumes of a collection (spec 7.3) -------------
    def join_collection(self, collection: str, sequence: int, previous_volume: str = "", *,
                        object_uuid: str | None = None, part: int = 1, continued_from: str = "",
                        device: int = 0) -> None:
        """Make this tape file part `part` of object `object_uuid` (the same UUID on every volume
        of a span set), and a volume this writer begins volume `sequence` of `collection`. A volume
        appended to (7.1) keeps the identity its header states. Call before the first member.
        Several devices (one span set per drive): once per `device`, each its own collection."""
        if self._started:
            raise ValueError("join_collection must come before the first member")
        if object_uuid is not None:
            self.object_uuid = uuid_mod.UUID(object_uuid)
            self._oid = self.object_uuid.bytes
        self.part = part
        self.continued_froms[device] = continued_from
        if device == 0:
            self.continued_from = continued_from
        volume = self.volumes[device]
        if self.new_volumes[device]:
            volume.identity = replace(self._identity(device), collection_uuid=collection, sequence=sequence,
                                      previous_volume=previous_volume)
            if device == 0:
                self.identity = volume.identity

    def in_collection(self, collection: str, device: int = 0) -> bool:
        """This writer's volume (on `device`) belongs to `collection` (it was begun by the set)."""
        return self._identity(device).collection_uuid == collection

    def _identity(self, device: int) -> VolumeIdentity:
        identity = self.volumes[device].identity
        assert identity is not None         # __init__ gives every volume one
        return identity

    # --- the optional planning call (jobs/write.py makes it when a writer has it) ---------
    def plan(self, entries: list[Any]) -> None:
        """The scanned sources (SourceEntry: name, kind, size) listed in the object header."""
        self.planned = [PlannedFile(e.kind if e.kind in ("file", "dir", "symlink") else "other", e.name,
                                    e.size if e.kind == "file" else 0) for e in entries]

    # --- framing helpers -------------------------------------------------------------
    def _frame_bytes(self, ftype: FrameType, payload: bytes, sequence: int = 0,
                     object_uuid: bytes | None = None) -> bytes:
        return build_frame(ftype, payload, record_size=self.rs,
                           object_uuid=self._oid if object_uuid is None else object_uuid, sequence=sequence)

    def _frame(self, ftype: FrameType, payload: bytes, sequence: int = 0, object_uuid: bytes | None = None) -> int:
        """A shared structure into the stream; its offset in the first device's tape file."""
        offset = self.stream.offset + self.leads[0]
        self.stream.write(self._frame_bytes(ftype, payload, sequence, object_uuid))
        return offset

    def _own_frame(self, st: DeviceStatus, ftype: FrameType, payload: bytes, object_uuid: bytes | None = None) -> None:
        """A structure of one volume, alone in its record(s), straight to its device."""
        st.write_own(self._frame_bytes(ftype, payload, object_uuid=object_uuid), self.rs, pad=True)

    def _align(self) -> None:
        rest = -self.stream.offset % ALIGN
        if rest:
            self.stream.zero_fill(rest)

    def _session_attrs(self, i: int = 0) -> dict[str, str]:
        s = self.session
        if s is None:
            return {"algorithms": ",".join(self.algorithms), "record-size": str(self.rs)}
        out = {"id": self._session_ids[i] or s.session_id, "tool": s.tool, "operator": s.operator, "host": s.host,
               "algorithms": ",".join(self.algorithms), "record-size": str(self.rs),
               "device": self._devices[i] or s.device, "barcode": self._barcodes[i] or "",
               "generation": s.generation, "started": s.started}
        return {k: str(v) for k, v in out.items()}

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self.stream.pad_to_record()
        self.stream.each_device(self._write_start)
        self.leads = [st.own_slots * self.rs for st in self.stream.status]

    def _write_start(self, i: int, st: DeviceStatus) -> None:
        """Volume i's signature and header (a new volume) and its object header."""
        ident = self.volumes[i].identity
        assert ident is not None
        if self.new_volumes[i]:
            sig = build_signature_text({
                "format-version": str(VERSION), "specification": SPEC, "record-size": str(self.rs),
                "volume-uuid": ident.volume_uuid, "collection-uuid": ident.collection_uuid,
                "sequence": str(ident.sequence), "created": ident.created, "creator": ident.creator})
            self._own_frame(st, FrameType.VOLUME_SIGNATURE, sig, object_uuid=bytes(16))
            self._own_frame(st, FrameType.VOLUME_HEADER, VolumeHeader(ident).to_payload(), object_uuid=bytes(16))
        header = ObjectHeader(
            object_uuid=str(self.object_uuid), created=self.created, creator=self.creator,
            tape_file=self.tape_files[i], volume=ident, session=self._session_attrs(i),
            sources=list(getattr(self.session, "sources", None) or []), metadata=self.metadata,
            planned=self.planned, part=self.part, continued_from=self.continued_froms[i] or self.continued_from)
        self._own_frame(st, FrameType.OBJECT_HEADER, header.to_payload())

    def _header(self, hdr: FileHeader) -> tuple[int, int]:
        self._start()
        self._align()
        seq = self._seq
        self._seq += 1
        return seq, self._frame(FrameType.FILE_HEADER, hdr.to_payload(), sequence=seq)

    # --- members ---------------------------------------------------------------------
    def add_directory(self, name: str, st: Any) -> int:
        hdr = FileHeader("dir", name.rstrip("/"), 0, st.st_mode, st.st_mtime_ns, st.st_uid, st.st_gid)
        seq, off = self._header(hdr)
        self.entries.append(FooterEntry(seq, "dir", hdr.path, 0, hdr.mode & 0o7777, hdr.mtime_ns, header_offset=off))
        return off

    def add_symlink(self, name: str, target: str, st: Any) -> int:
        hdr = FileHeader("symlink", name, 0, st.st_mode, st.st_mtime_ns, st.st_uid, st.st_gid, linkname=target)
        seq, off = self._header(hdr)
        self.entries.append(FooterEntry(seq, "symlink", name, 0, hdr.mode & 0o7777, hdr.mtime_ns,
                                        header_offset=off, linkname=target))
        return off

    def add_file(self, name: str, source: BinaryIO, st: Any, hasher: Any | None = None) -> AxfPlacement:
        """Stream a regular file of st.st_size bytes, then its footer with the checksums.

        If the source delivers fewer bytes, the data is completed with zeros and
        the footer says how many bytes were real (`copied`) and why.
        """
        stream = self.stream
        size = st.st_size
        hasher = hasher if hasher is not None else MultiHasher(self.algorithms)
        hdr = FileHeader("file", name, size, stat_mod.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_uid, st.st_gid,
                         algorithms=tuple(hasher.algorithms))
        seq, header_offset = self._header(hdr)
        copied, error = 0, None
        if size:
            stream.pad_to_record()
        data_offset = stream.offset + self.leads[0]
        if size:
            copied, error = stream.copy_from(source, size, hasher)
            if copied < size:
                stream.zero_fill(size - copied)
            stream.pad_to_record()
        stream.flush_hashes()   # the footer needs the checksums: wait for the hash thread (see module doc)
        message = ""
        if copied < size:
            why = error.strerror if error is not None else "the file shrank while it was read"
            message = f"source gave {copied} of {size} bytes ({why}); the rest is zeros"
        footer = FileFooter(name, size, hasher.hexdigests(), copied=copied, mode=hdr.mode, mtime_ns=hdr.mtime_ns,
                            message=message)
        footer_offset = self._footer(seq, footer)
        self.entries.append(FooterEntry(seq, "file", name, size, hdr.mode, hdr.mtime_ns, copied, header_offset,
                                        data_offset, dict(footer.checksums), message=message))
        return AxfPlacement(header_offset, data_offset, size, copied, error, footer_offset)

    def add_bytes(self, name: str, data: bytes, mtime_ns: int, mode: int = 0o644) -> AxfPlacement:
        """A small member made in memory (session.json, manifest, checksum lists)."""
        stream = self.stream
        size = len(data)
        hdr = FileHeader("file", name, size, mode, mtime_ns, algorithms=self.algorithms)
        seq, header_offset = self._header(hdr)
        if size:
            stream.pad_to_record()
        data_offset = stream.offset + self.leads[0]
        if size:
            stream.write(data)
            stream.pad_to_record()
        footer = FileFooter(name, size, hash_bytes(bytes(data), self.algorithms), mode=mode, mtime_ns=mtime_ns)
        footer_offset = self._footer(seq, footer)
        self.entries.append(FooterEntry(seq, "file", name, size, mode & 0o7777, mtime_ns, size, header_offset,
                                        data_offset, dict(footer.checksums)))
        return AxfPlacement(header_offset, data_offset, size, size, None, footer_offset)

    def closing_room(self, meta_members: int = 8) -> int:
        """Bytes the volume still needs after its members, at most: the object footer (every member
        with its checksums) and volume footer, then a span job's metadata object in a tape file of
        its own (object header and footers, and per member its header, footer and paddings; the
        member data is the caller's reserve). Each of them takes whole records."""
        footer = (len(self.entries) + 1) * 768 + 8192
        return (-(-footer // self.rs) + 1 + 3 + 2 * meta_members) * self.rs

    # --- segments: the part API of the span job (span/write.py), as TarWriter/CpioWriter have it ---
    def part_overhead(self, name: str, st: Any, offset: int = 0, volume: int = 1) -> int:
        """Bytes a segment takes beyond its data, at most (header, footer, the paddings to R)."""
        return member_overhead(name, 0, self.rs) + self.rs + ALIGN

    def start_part(self, name: str, st: Any, offset: int = 0, volume: int = 1, *, length: int,
                   number: int = 1, source: Any = None) -> int:
        """The file header of `length` bytes of a file from byte `offset` (the whole file when that
        is all of it; else a segment, flagged continued / continues, spec 7.3). The caller streams
        the data, then calls `finish_part`. Returns the header's offset."""
        size = st.st_size
        flags = (FLAG_CONTINUED if offset else 0) | (FLAG_CONTINUES if offset + length < size else 0)
        hdr = FileHeader("file", name, size, stat_mod.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_uid, st.st_gid,
                         algorithms=self.algorithms, segment_offset=offset, segment_size=length, flags=flags)
        seq, header_offset = self._header(hdr)
        if length:
            self.stream.pad_to_record()
        self._segment = (seq, hdr, header_offset, self.stream.offset + self.leads[0])
        return header_offset

    def finish_part(self, hasher: Any, file_hasher: Any | None = None, copied: int | None = None) -> int:
        """The footer after a segment's data: `hasher` has hashed the segment's bytes, `file_hasher`
        (the last segment of a spanned file) the whole file's; `copied` bytes came from the source.
        Waits for the hash thread, as add_file does. Returns the footer's offset."""
        assert self._segment is not None, "finish_part without start_part"
        seq, hdr, header_offset, data_offset = self._segment
        self._segment = None
        seg = hdr.segment_size or 0
        copied = seg if copied is None else copied
        if seg:
            self.stream.pad_to_record()
        self.stream.flush_hashes()
        checks = hasher.hexdigests()
        whole = file_hasher.hexdigests() if file_hasher is not None and hdr.flags & FLAG_CONTINUED else {}
        message = f"source gave {copied} of {seg} bytes; the rest is zeros" if copied < seg else ""
        footer = FileFooter(hdr.path, hdr.size, checks, copied=copied, mode=hdr.mode, mtime_ns=hdr.mtime_ns,
                            segment_offset=hdr.segment_offset, segment_size=seg, file_checksums=whole,
                            message=message, flags=hdr.flags)
        footer_offset = self._footer(seq, footer)
        self.entries.append(FooterEntry(seq, "file", hdr.path, hdr.size, hdr.mode & 0o7777, hdr.mtime_ns, copied,
                                        header_offset, data_offset, dict(checks), message=message,
                                        segment_offset=hdr.segment_offset, segment_size=seg,
                                        continues=bool(hdr.flags & FLAG_CONTINUES)))
        return footer_offset

    def pad_data(self, length: int) -> None:
        """Nothing to do: finish_part pads the segment (kept for the part API)."""

    def end_volume(self) -> None:
        """The volume is full and the object goes on in the next one: object footer with
        `<span continues="true">`, volume footer with `<collection continues="true">` (when the
        volume is the collection's, 7.3)."""
        self.object_continues = True
        self.close()

    def _footer(self, seq: int, footer: FileFooter) -> int:
        self._align()     # at a record boundary after data; packed after the header of an empty file
        return self._frame(FrameType.FILE_FOOTER, footer.to_payload(), sequence=seq)

    def close(self) -> None:
        """Object footer, then the volume footer; the stream pads the last record."""
        if self.closed:
            return
        self._start()
        finished = iso(utc_now())
        self.stream.pad_to_record()
        self.stream.each_device(lambda i, st: self._write_end(i, st, finished))
        self.closed = True

    def _write_end(self, i: int, st: DeviceStatus, finished: str) -> None:
        """Volume i's object footer (the members at its own offsets) and its volume footer."""
        shift = self.leads[i] - self.leads[0]
        entries = [replace(e, header_offset=e.header_offset + shift,
                           data_offset=e.data_offset + shift if e.kind == "file" else e.data_offset)
                   for e in self.entries] if shift else self.entries
        self._own_frame(st, FrameType.OBJECT_FOOTER, ObjectFooter(str(self.object_uuid), finished, entries,
                                                                  continues=self.object_continues).to_payload())
        files = [e for e in self.entries if e.kind == "file"]
        volume = self.volumes[i]
        this = ObjectSummary(str(self.object_uuid), self.tape_files[i], self.created, finished, len(files),
                             sum(e.segment_size or 0 for e in files))
        footer = VolumeFooter(self._identity(i), self.tape_files[i], finished, self.creator,
                              [*volume.objects, this], complete=volume.complete,
                              continues=self.collection_continues[i] if isinstance(self.collection_continues, list)
                              else self.collection_continues)
        self._own_frame(st, FrameType.VOLUME_FOOTER, footer.to_payload(), object_uuid=bytes(16))


def member_overhead(name: str, size: int, record_size: int) -> int:
    """Bytes on tape beyond the data, at most: header (and the padding before the data),
    padding after the data, footer with up to six checksums."""
    n = len(name.encode("utf-8", "surrogateescape"))
    header = 64 + 64 + 6 * 8 + n
    footer = 64 + 80 + 6 * 80 + n + 512
    return record_size + (-size % record_size) + -(-header // ALIGN) * ALIGN + -(-footer // ALIGN) * ALIGN


__all__ = ["AxfWriter", "AxfPlacement", "VolumeState", "member_overhead", "CREATOR"]
