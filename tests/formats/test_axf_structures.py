"""AXF-style framing and payloads: exact layout, both CRCs, every structure round-trips, damage is named."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.errors import CorruptArchive
from lto_archive.formats.axf.payloads import (FooterEntry, ObjectFooter, ObjectHeader, ObjectSummary, PlannedFile,
                                              VolumeFooter, VolumeHeader, VolumeIdentity, parse_payload)
from lto_archive.formats.axf.structures import (HEADER_SIZE, MAGIC, FileFooter, FileHeader, FrameType, build_frame,
                                                check_payload, parse_frame_header)
from lto_archive.formats.registry import detect_format, get_format

OID = bytes(range(16))


def roundtrip(ftype: FrameType, payload: bytes, **kw):  # type: ignore[no-untyped-def]
    raw = build_frame(ftype, payload, record_size=4096, object_uuid=OID, **kw)
    frame = parse_frame_header(raw[:HEADER_SIZE])
    body = check_payload(frame, raw[HEADER_SIZE:HEADER_SIZE + frame.payload_length])
    return frame, parse_payload(frame, body)


def test_frame_header_layout_is_as_specified() -> None:
    raw = build_frame(FrameType.FILE_FOOTER, b"payload", record_size=524288, object_uuid=OID, sequence=7)
    assert raw[:8] == b"\x89LAX\r\n\x1a\n" == MAGIC
    assert raw[8:10] == (1).to_bytes(2, "big")                 # version
    assert raw[10:12] == (5).to_bytes(2, "big")                # type: file footer
    assert raw[12:16] == (64).to_bytes(4, "big")               # header length
    assert raw[16:24] == (7).to_bytes(8, "big")                # payload length
    assert raw[24:28] == zlib.crc32(b"payload").to_bytes(4, "big")
    assert raw[28:32] == (524288).to_bytes(4, "big")
    assert raw[32:48] == OID
    assert raw[48:56] == (7).to_bytes(8, "big")                # sequence
    assert raw[56:60] == bytes(4)                              # flags
    assert raw[60:64] == zlib.crc32(raw[:60]).to_bytes(4, "big")
    assert raw[64:] == b"payload"
    assert zlib.crc32(b"123456789") == 0xCBF43926              # the CRC-32 the spec names


def test_damaged_frames_are_named() -> None:
    raw = bytearray(build_frame(FrameType.OBJECT_FOOTER, b"<x/>", record_size=4096, object_uuid=OID))
    bad = bytearray(raw)
    bad[20] ^= 1
    with pytest.raises(CorruptArchive, match="header CRC-32 mismatch"):
        parse_frame_header(bad, where="block 3")
    frame = parse_frame_header(raw)
    with pytest.raises(CorruptArchive, match="payload CRC-32 mismatch"):
        check_payload(frame, b"<y/>")
    with pytest.raises(CorruptArchive, match="cut short.*truncated"):
        check_payload(frame, b"<x")
    with pytest.raises(CorruptArchive, match="cut short"):
        parse_frame_header(raw[:40])
    with pytest.raises(CorruptArchive, match="magic number is missing"):
        parse_frame_header(bytes(64))
    # a CRC-valid header with an absurd length is still refused
    huge = bytearray(raw)
    huge[16:24] = (1 << 40).to_bytes(8, "big")
    huge[60:64] = zlib.crc32(bytes(huge[:60])).to_bytes(4, "big")
    with pytest.raises(CorruptArchive, match="limit"):
        parse_frame_header(huge)


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40) | st.sampled_from(
    ["a\nb", "tab\tname", "ctl\x01\x1f", "bad-utf8-\udcff\udc80", "../up", "/abs", "日本語/clip.mov", "a" * 5000])


@settings(max_examples=60, deadline=None)
@given(path=names, size=st.integers(0, 2**63 - 1), mode=st.integers(0, 0o7777),
       mtime=st.integers(-(2**62), 2**62), algos=st.lists(st.sampled_from(["md5", "xxh128", "sha256"]), unique=True))
def test_file_header_and_footer_round_trip(path: str, size: int, mode: int, mtime: int, algos: list[str]) -> None:
    h = FileHeader("file", path, size, mode, mtime, 1000, 1000, algorithms=tuple(algos))
    frame, got = roundtrip(FrameType.FILE_HEADER, h.to_payload(), sequence=3)
    assert got == h and frame.sequence == 3 and frame.object_uuid == OID
    sums = {a: ("ab" * {"md5": 16, "xxh128": 16, "sha256": 32}[a]) for a in algos}
    f = FileFooter(path, size, sums, copied=size // 2, mode=mode, mtime_ns=mtime, message="Input/output error")
    _, got = roundtrip(FrameType.FILE_FOOTER, f.to_payload())
    assert got.path == path and got.size == size and got.checksums == sums and got.copied == size // 2
    assert got.complete == (size == 0)
    assert got.message == "Input/output error"


@settings(max_examples=40, deadline=None)
@given(paths=st.lists(names, min_size=1, max_size=5), meta=st.dictionaries(names, names, max_size=3))
def test_xml_structures_round_trip_any_name(paths: list[str], meta: dict[str, str]) -> None:
    ident = VolumeIdentity("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
                           sequence=2, previous_volume="33333333-3333-3333-3333-333333333333", created="t",
                           creator="me", label="ABC123L9", first_tape_file=0, record_size=4096)
    _, vh = roundtrip(FrameType.VOLUME_HEADER, VolumeHeader(ident).to_payload())
    assert vh.identity == ident
    oh = ObjectHeader("44444444-4444-4444-4444-444444444444", "c", "creator", 3, ident,
                      session={"operator": paths[0]}, sources=paths, metadata=meta,
                      planned=[PlannedFile("file", p, i) for i, p in enumerate(paths)])
    _, got = roundtrip(FrameType.OBJECT_HEADER, oh.to_payload())
    assert got == oh
    entries = [FooterEntry(i, "file", p, i, 0o640, -5, i, 100 * i, 4096 * i, {"md5": "00" * 16}, message=p)
               for i, p in enumerate(paths)] + [FooterEntry(len(paths), "symlink", "l", 0, linkname=paths[0])]
    of = ObjectFooter(oh.object_uuid, "f", entries)
    _, got = roundtrip(FrameType.OBJECT_FOOTER, of.to_payload())
    assert got == of
    vf = VolumeFooter(ident, 3, "w", "me", [ObjectSummary(oh.object_uuid, 3, "c", "f", 2, 10)], complete=False)
    _, got = roundtrip(FrameType.VOLUME_FOOTER, vf.to_payload())
    assert got == vf and not got.complete and not got.continues


def test_spanning_fields_are_written_and_read_back() -> None:
    """Single-tape values now; the fields a spanning job will fill are in place and parsed."""
    h = FileHeader("file", "big.mov", 1000, segment_offset=600, segment_size=400, flags=2)
    _, got = roundtrip(FrameType.FILE_HEADER, h.to_payload())
    assert (got.segment_offset, got.segment_size, got.flags) == (600, 400, 2)
    with pytest.raises(CorruptArchive, match="segment"):
        roundtrip(FrameType.FILE_HEADER, FileHeader("file", "x", 10, segment_offset=8, segment_size=4).to_payload())
    f = FileFooter("big.mov", 1000, {"md5": "00" * 16}, segment_offset=600, segment_size=400,
                   file_checksums={"md5": "11" * 16}, flags=2)
    _, got = roundtrip(FrameType.FILE_FOOTER, f.to_payload())
    assert got.file_checksums == {"md5": "11" * 16} and got.segment_size == 400
    e = FooterEntry(0, "file", "big.mov", 1000, segment_offset=0, segment_size=600, continues=True)
    of = ObjectFooter("44444444-4444-4444-4444-444444444444", "f", [e], continues=True)
    _, got = roundtrip(FrameType.OBJECT_FOOTER, of.to_payload())
    assert got.continues and got.entries[0].continues and got.entries[0].segment_size == 600
    oh = ObjectHeader("44444444-4444-4444-4444-444444444444", "c", "x", 0, None, part=2,
                      continued_from="55555555-5555-5555-5555-555555555555")
    _, got = roundtrip(FrameType.OBJECT_HEADER, oh.to_payload())
    assert got.part == 2 and got.continued_from.startswith("5555")


def test_xml_with_a_dtd_is_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<volume-header version="1"><volume uuid="&b;"/></volume-header>')
    with pytest.raises(CorruptArchive, match="DTD"):
        roundtrip(FrameType.VOLUME_HEADER, bomb)
    with pytest.raises(CorruptArchive, match="not well-formed"):
        roundtrip(FrameType.VOLUME_HEADER, b"<volume-header")


def test_detect_from_the_first_record() -> None:
    _is_axf = get_format("axf").detect     # (through the registry: importing axf_format first would hide TAR)
    rec = build_frame(FrameType.OBJECT_HEADER, b"<x/>", record_size=4096).ljust(4096, b"\0")
    assert _is_axf(rec) and detect_format(rec) is get_format("axf")
    assert not _is_axf(bytes(4096)) and not _is_axf(rec[:7]) and _is_axf(MAGIC + bytes(4088))
    tar_like = bytearray(4096)
    tar_like[257:262] = b"ustar"
    assert detect_format(bytes(tar_like)) is get_format("tar")
