"""TarReader and TapeFileReader against archives written by Python's tarfile,
damaged archives, and a hypothesis round trip through fake tape records."""

from __future__ import annotations

import hashlib
import io
import os
import random
import tarfile
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import ArchiveError, CorruptArchive
from lto_archive.formats.tapefile import RecordRun, TapeFileReader
from lto_archive.formats.tar_reader import TarMember, TarReader, parse_pax_records

from .fake_tape import FILEMARK, FakeTape, split_records

FORMATS = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}
MTIME = 1_700_000_000


# --- helpers ---------------------------------------------------------------------

def _ti(name: str, kind: str = "file", size: int = 0, **kw) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
               "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
    ti.size = size
    ti.mtime = kw.pop("mtime", MTIME)
    ti.mode = kw.pop("mode", 0o755 if kind == "dir" else 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def make_tar(entries, fmt=tarfile.PAX_FORMAT) -> bytes:
    """entries: (name, kind, data_or_linkname[, extra TarInfo attrs])."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8") as t:
        for e in entries:
            name, kind, payload = e[:3]
            extra = e[3] if len(e) > 3 else {}
            if kind == "file":
                t.addfile(_ti(name, "file", len(payload), **extra), io.BytesIO(payload))
            elif kind in ("symlink", "hardlink"):
                t.addfile(_ti(name, kind, linkname=payload, **extra))
            else:
                t.addfile(_ti(name, kind, **extra))
    return buf.getvalue()


def read_all(stream, **kw) -> tuple[list[TarMember], dict[str, bytes], TarReader]:
    r = TarReader(stream, **kw)
    members, data = [], {}
    for m in r:
        members.append(m)
        data[m.path] = b"".join(bytes(c) for c in r.iter_data(m, chunk_size=777))
    return members, data, r


def tape_stream(raw: bytes, record_size=1000, *, filemark=True, extra_files=()):
    dev = FakeTape.from_files(raw, *extra_files, record_size=record_size, filemark_after_last=filemark)
    return dev, TapeFileReader(dev)


def tarfile_members(raw: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:", encoding="utf-8") as t:
        return {m.name: m for m in t.getmembers()}


NFC = unicodedata.normalize("NFC", "Café Crème/écran.mov")
NFD = unicodedata.normalize("NFD", "Café Crème/écran_nfd.mov")
NAMES = [
    "A001/A001C001_230101_R1AB.mov",
    "spaces and: colons % percent/file 100%.txt",
    NFC,
    NFD,
    "日本語/撮影_テイク１.mxf",
    "emoji/🎬 clap 🎞️.wav",
    "deep/" + "/".join(["sub%02d" % i for i in range(20)]) + "/f.dpx",   # > 100 bytes, splits in ustar
]
LONG_255 = "long/" + "n" * 120 + "/" + "m" * 140 + ".mov"            # > 255 bytes, one 140 component


def sample_entries(fmt: str):
    data = {n: hashlib.sha256(n.encode()).digest() * (i + 1) * 17 for i, n in enumerate(NAMES)}
    entries = [("A001", "dir", None), ("empty_dir", "dir", None)]
    entries += [(n, "file", d) for n, d in data.items()]
    entries += [("empty.bin", "file", b""),
                ("A001/latest.mov", "symlink", "A001C001_230101_R1AB.mov"),
                ("A001/hard.mov", "hardlink", "A001/A001C001_230101_R1AB.mov")]
    if fmt != "ustar":
        entries.append((LONG_255, "file", b"long name data"))
        entries.append(("links/" + "l" * 150, "symlink", "../" + "t" * 150))
    return entries


# --- well-formed archives from tarfile --------------------------------------------

@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("via", ["bytesio", "tape1000", "tape512k", "file", "rawfile"])
def test_tarfile_archives_match(fmt, via, tmp_path):
    entries = sample_entries(fmt)
    raw = make_tar(entries, FORMATS[fmt])
    ref = tarfile_members(raw)
    if via == "bytesio":
        stream = io.BytesIO(raw)
    elif via.startswith("tape"):
        _, stream = tape_stream(raw, 1000 if via == "tape1000" else 512 * 1024)
    else:
        p = tmp_path / "a.tar"
        p.write_bytes(raw)
        stream = open(p, "rb", buffering=0 if via == "rawfile" else -1)
    with stream:
        members, data, r = read_all(stream)
    assert [m.path for m in members] == [e[0] for e in entries]
    assert r.ended_cleanly and r.end_offset is not None
    for m, e in zip(members, entries):
        t = ref[m.path]
        assert m.header_offset == t.offset, m.path
        assert m.data_offset == t.offset_data, m.path
        assert m.kind == e[1]
        if e[1] == "file":
            assert data[m.path] == e[2]
            assert m.size == len(e[2])
        else:
            assert m.size == 0 and data[m.path] == b""
        if e[1] in ("symlink", "hardlink"):
            assert m.linkname == e[2]
        assert m.mtime == MTIME and m.mtime_ns == MTIME * 10**9
        assert m.mode == (0o755 if e[1] == "dir" else 0o644)


def test_unicode_names_are_kept_as_stored():
    raw = make_tar([(NFC, "file", b"c"), (NFD, "file", b"d")])
    members, _, _ = read_all(io.BytesIO(raw))
    assert members[0].path == NFC and unicodedata.is_normalized("NFC", members[0].path)
    assert members[1].path == NFD and not unicodedata.is_normalized("NFC", members[1].path)


def test_offsets_are_exact_for_a_simple_ustar_archive():
    raw = make_tar([("a", "file", b"x" * 513), ("b", "file", b""), ("c", "file", b"y")], tarfile.USTAR_FORMAT)
    members, _, r = read_all(io.BytesIO(raw))
    assert [(m.header_offset, m.data_offset, m.end_offset) for m in members] == [
        (0, 512, 512 + 1024), (1536, 2048, 2048), (2048, 2560, 3072)]
    assert r.end_offset == 3072


def test_pax_headers_count_in_header_offset_and_override_ustar_fields():
    raw = make_tar([("first", "file", b"1"),
                    ("x" * 150, "file", b"2"),
                    ("n", "file", b"3", {"pax_headers": {"mtime": "1700000000.123456789", "uname": "ünï"}})])
    members, _, _ = read_all(io.BytesIO(raw))
    assert members[1].header_offset == 1024          # its pax 'x' header, not the ustar block
    assert members[1].data_offset == 1024 + 3 * 512  # x header, x data, ustar header
    assert members[1].extra.pax["path"] == "x" * 150
    m = members[2]
    assert m.mtime_ns == 1_700_000_000_123_456_789
    assert m.mtime == pytest.approx(1700000000.123456789)
    assert m.uname == "ünï"


def test_gnu_long_names_count_in_header_offset():
    long = "L" * 300
    raw = make_tar([("s", "file", b"s"), (long, "symlink", "T" * 200)], tarfile.GNU_FORMAT)
    ref = tarfile_members(raw)
    members, _, _ = read_all(io.BytesIO(raw))
    assert members[1].path == long and members[1].linkname == "T" * 200
    assert members[1].header_offset == ref[long].offset == 1024


def test_global_pax_header_applies_to_following_members():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"uname": "global-user", "comment": "reel 7"}) as t:
        t.addfile(_ti("a", "file", 1), io.BytesIO(b"a"))
        t.addfile(_ti("b", "file", 1, pax_headers={"uname": "own"}), io.BytesIO(b"b"))
    members, _, r = read_all(io.BytesIO(buf.getvalue()))
    assert members[0].uname == "global-user" and members[0].extra.pax["comment"] == "reel 7"
    assert members[1].uname == "own"
    assert members[0].header_offset == 1024   # the 'g' header belongs to no member
    assert r.global_pax == {"uname": "global-user", "comment": "reel 7"}


def test_v7_directory_and_fifo_and_hardlink_kinds():
    raw = make_tar([("d", "dir", None), ("p", "fifo", None), ("f", "file", b"z"), ("h", "hardlink", "f")],
                   tarfile.USTAR_FORMAT)
    ba = bytearray(raw)
    # turn the 'd' directory into a v7-style regular '\0' member named "d/"
    hdr = ba[0:512]
    hdr[0:2] = b"d/"
    hdr[156:157] = b"\0"
    hdr[257:265] = bytes(8)    # no magic: v7
    hdr[148:156] = b"        "
    hdr[148:156] = b"%06o\0 " % sum(hdr)
    ba[0:512] = hdr
    members, _, _ = read_all(io.BytesIO(bytes(ba)))
    assert [(m.path, m.kind) for m in members] == [("d", "dir"), ("p", "fifo"), ("f", "file"), ("h", "hardlink")]


def test_one_zero_block_ends_the_archive_and_padding_is_drained():
    raw = make_tar([("a", "file", b"abc")])
    one_block = raw[:1024] + bytes(512) + b"\xffjunk after end" * 10
    dev = FakeTape.from_files(one_block, b"next tape file", record_size=700)
    tfr = TapeFileReader(dev)
    members, data, r = read_all(tfr)
    assert data == {"a": b"abc"} and r.ended_cleanly and r.end_offset == 1024
    assert r.trailing_bytes == len(one_block) - 1024 - 512
    assert tfr.ended_at_filemark and not tfr.ended_at_eod
    assert dev.read_record() == b"next tape file"      # device left at the next tape file


def test_skipping_data_is_allowed_and_efficient_on_tape():
    payload = os.urandom(300_000)
    raw = make_tar([("big", "file", payload), ("small", "file", b"s")])
    _, tfr = tape_stream(raw, 4096)
    r = TarReader(tfr)
    names = []
    for m in r:
        names.append(m.path)
        if m.path == "small":
            assert r.read_data(m) == b"s"
    assert names == ["big", "small"]
    # iter_data after moving on is refused
    r2 = TarReader(io.BytesIO(raw))
    first = r2.next()
    r2.next()
    with pytest.raises(ValueError, match="no longer available"):
        list(r2.iter_data(first))


def test_partially_read_member_is_skipped():
    payload = bytes(range(256)) * 40
    raw = make_tar([("a", "file", payload), ("b", "file", b"bee")])
    for stream in (io.BytesIO(raw), tape_stream(raw, 1000)[1]):
        r = TarReader(stream)
        a = r.next()
        it = r.iter_data(a, chunk_size=100)
        assert bytes(next(it)) == payload[:100]
        b = r.next()
        assert b.path == "b" and r.read_data(b) == b"bee"
        assert r.next() is None


def test_chunks_are_memoryviews_without_copy_on_tape():
    payload = os.urandom(10_000)
    raw = make_tar([("a", "file", payload)])
    dev, tfr = tape_stream(raw, 4096)
    r = TarReader(tfr)
    m = r.next()
    chunks = list(r.iter_data(m))
    assert all(isinstance(c, memoryview) for c in chunks)
    assert b"".join(chunks) == payload
    assert max(len(c) for c in chunks) <= 4096


def test_huge_member_sizes_gnu_base256_and_pax():
    size = 9 * 1024**3 + 123
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        ti = _ti("big clip.mov", "file", size)
        header = ti.tobuf(fmt, "utf-8", "surrogateescape")
        if fmt == tarfile.GNU_FORMAT:
            assert header[124] & 0x80          # base-256 size field
        data = b"\x42" * 5000
        for stream in (io.BytesIO(header + data), tape_stream(header + data, 1000)[1]):
            r = TarReader(stream)
            m = r.next()
            assert m.size == size and m.path == "big clip.mov"
            got = 0
            with pytest.raises(CorruptArchive) as ei:
                for c in r.iter_data(m):
                    got += len(c)
            assert got == 5000
            msg = str(ei.value)
            assert "ends inside 'big clip.mov' after 5000 of %d bytes" % size in msg
            assert "truncated" in msg
            assert ei.value.data["path"] == "big clip.mov"
            # the reader stays failed
            with pytest.raises(CorruptArchive):
                r.next()
        # skipping instead of reading also finds the truncation (seekable and not)
        for stream in (io.BytesIO(header + data), tape_stream(header + data, 1000)[1]):
            r = TarReader(stream)
            r.next()
            with pytest.raises(CorruptArchive, match="after 5000 of"):
                r.next()


# --- damaged archives --------------------------------------------------------------

def _three() -> bytes:
    return make_tar([("one.mov", "file", b"1" * 700), ("two.mov", "file", b"2" * 10),
                     ("three.mov", "file", b"3" * 5)], tarfile.USTAR_FORMAT)


@pytest.mark.parametrize("via", ["bytesio", "tape"])
def test_flipped_byte_in_header_after_earlier_members(via):
    raw = bytearray(_three())
    third = tarfile_members(bytes(raw))["three.mov"].offset
    raw[third + 3] ^= 0x20
    stream = io.BytesIO(bytes(raw)) if via == "bytesio" else tape_stream(bytes(raw), 1000)[1]
    r = TarReader(stream)
    seen = []
    for m in r:     # the reader reads on past the damage (no valid header follows it here)
        seen.append((m.path, r.read_data(m)))
    assert seen == [("one.mov", b"1" * 700), ("two.mov", b"2" * 10)]
    with pytest.raises(CorruptArchive) as ei:
        r.check_damage()
    msg = str(ei.value)
    assert f"at byte {third}," in msg and "after 'two.mov'" in msg and "checksum" in msg
    assert ei.value.data["offset"] == third


def test_truncated_in_the_middle_of_data():
    raw = _three()
    cut = tarfile_members(raw)["one.mov"].offset_data + 300
    r = TarReader(io.BytesIO(raw[:cut]))
    m = r.next()
    with pytest.raises(CorruptArchive, match=r"ends inside 'one.mov' after 300 of 700 bytes .*truncated"):
        r.read_data(m)


def test_truncated_at_header_boundary_without_end_blocks():
    raw = _three()
    cut = tarfile_members(raw)["three.mov"].offset
    for stream in (io.BytesIO(raw[:cut]), tape_stream(raw[:cut], 1000, filemark=False)[1]):
        r = TarReader(stream)
        seen = []
        with pytest.raises(CorruptArchive) as ei:
            for m in r:
                seen.append(m.path)
                r.read_data(m)
        assert seen == ["one.mov", "two.mov"]
        assert str(ei.value) == (f"the archive ends at byte {cut} after 'two.mov' without "
                                 f"end-of-archive blocks: the tape file is truncated")
    assert stream.ended_at_eod


def test_truncated_inside_a_header_and_inside_padding():
    raw = _three()
    t = tarfile_members(raw)
    with pytest.raises(CorruptArchive, match="ends inside a header at byte"):
        read_all(io.BytesIO(raw[:t["two.mov"].offset + 100]))
    with pytest.raises(CorruptArchive, match="ends in the padding after 'one.mov'"):
        read_all(io.BytesIO(raw[:t["one.mov"].offset_data + 800]))


def test_truncated_after_a_pax_header():
    raw = make_tar([("p" * 200, "file", b"data")])
    with pytest.raises(CorruptArchive, match="right after the pax header of 'ppp"):
        read_all(io.BytesIO(raw[:1024]))


def test_random_garbage_and_empty_stream():
    rnd = random.Random(7).randbytes(10_000)
    with pytest.raises(CorruptArchive, match="bad tar header at byte 0"):
        read_all(io.BytesIO(rnd))
    with pytest.raises(CorruptArchive, match="the tape file is empty"):
        read_all(io.BytesIO(b""))
    dev = FakeTape([FILEMARK])
    with pytest.raises(CorruptArchive, match="the tape file is empty"):
        read_all(TapeFileReader(dev))


def test_damaged_pax_record():
    raw = bytearray(make_tar([("q" * 150, "file", b"x")]))
    i = raw.index(b" path=")
    raw[i - 3:i] = b"999"                       # record length beyond the data
    # keep the header checksum valid: only the pax data is damaged
    # as GNU tar: reported, not fatal; the member is read with what its header says
    members, data, r = read_all(io.BytesIO(bytes(raw)))
    assert [(m.path, data[m.path]) for m in members] == [("q" * 100, b"x")]
    assert [(d.offset, d.reason) for d in r.damaged] == [(0, "a pax extended header is damaged: bad pax record "
                                                          "at 0 (length 999)")]
    with pytest.raises(CorruptArchive, match="pax extended header is damaged"):
        r.check_damage()


def test_unsupported_and_unknown_types():
    def with_type(t: bytes) -> bytes:
        raw = bytearray(make_tar([("ok", "file", b"k"), ("odd", "file", b"")], tarfile.USTAR_FORMAT))
        h = raw[1024:1536]
        h[156:157] = t
        h[148:156] = b"        "
        h[148:156] = b"%06o\0 " % sum(h)
        raw[1024:1536] = h
        return bytes(raw)
    # an unsupported member is stepped over with a warning; it never ends the archive
    for t, what in ((b"M", "a GNU multi-volume continuation"), (b"Z", "of unknown type b'Z'"),
                    (b"X", "a Solaris extended header")):
        r = TarReader(io.BytesIO(with_type(t)))
        assert [(m.path, r.read_data(m)) for m in r] == [("ok", b"k")] and r.ended_cleanly
        assert [(s.path, s.offset) for s in r.skipped] == [("odd", 1024)]
        assert what in r.skipped[0].reason and "which lto-archive does not restore" in r.skipped[0].reason
        with pytest.raises(ArchiveError, match="1 member\\(s\\) not restored: 'odd' at byte 1024"):
            r.check_damage()
    r = TarReader(io.BytesIO(with_type(b"S")))   # an old GNU sparse header with an empty map: an empty file
    assert [(m.path, m.kind, r.read_data(m)) for m in r] == [("ok", "file", b"k"), ("odd", "file", b"")]


def test_gnu_sparse_in_pax_with_a_damaged_map_is_skipped():
    raw = make_tar([("sp", "file", b"", {"pax_headers": {"GNU.sparse.major": "1", "GNU.sparse.minor": "0"}}),
                    ("after", "file", b"a")])
    r = TarReader(io.BytesIO(raw))
    assert [(m.path, r.read_data(m)) for m in r] == [("after", b"a")]
    assert len(r.skipped) == 1 and "a GNU sparse file whose map is damaged" in r.skipped[0].reason
    with pytest.raises(ArchiveError, match="GNU sparse"):
        r.check_damage()


def test_parse_pax_records():
    rec = "path=été/x\n"
    line = f"{len(rec.encode()) + 3} {rec}".encode()
    assert parse_pax_records(line + b"\0\0") == {"path": "été/x"}
    bad = b"15 path=\xff\xfe.mov\n"
    assert len(bad) == 15
    got = parse_pax_records(b"21 hdrcharset=BINARY\n" + bad)
    assert os.fsencode(got["path"]) == b"\xff\xfe.mov"
    with pytest.raises(ValueError):
        parse_pax_records(b"5 a=b\n")


# --- TapeFileReader ---------------------------------------------------------------

def test_tapefile_reader_blocks_offsets_and_filemark():
    recs = [b"a" * 1000, b"b" * 1000, b"c" * 1000, b"d" * 300]
    dev = FakeTape([b"before", FILEMARK, *recs, FILEMARK, b"next", FILEMARK])
    dev.locate(0, 2)
    tfr = TapeFileReader(dev)
    assert tfr.start_block == 2 and tfr.tell() == 0
    buf = bytearray(1500)
    assert tfr.readinto(buf) == 1500 and bytes(buf) == b"a" * 1000 + b"b" * 500
    assert tfr.tell() == 1500 and tfr.records_read == 2 and tfr.bytes_read == 2000
    assert tfr.block_of(0) == (2, 0)
    assert tfr.block_of(1499) == (3, 499)
    with pytest.raises(ValueError):
        tfr.block_of(2000)
    assert bytes(tfr.read_view(10_000)) == b"b" * 500       # never crosses a record
    assert tfr.read() == b"c" * 1000 + b"d" * 300
    assert tfr.at_end and tfr.ended_at_filemark and not tfr.ended_at_eod
    assert tfr.block_of(3299) == (5, 299)
    assert tfr.runs() == [RecordRun(0, 0, 1000, 3), RecordRun(3000, 3, 300, 1)]
    assert tfr.read(10) == b"" and dev.block == 7         # stays put after the filemark
    assert dev.read_record() == b"next"


def test_tapefile_reader_eod_and_skip_and_base_offset():
    dev = FakeTape([b"x" * 100, b"y" * 100])
    tfr = TapeFileReader(dev, base_offset=5000, base_record=50)
    assert tfr.skip(150) == 150 and tfr.tell() == 5150
    assert tfr.record_of(5150) == (51, 50)
    assert tfr.block_of(5199) == (1, 99)
    assert tfr.skip_to_end() == 50 and tfr.ended_at_eod and tfr.tell() == 5200
    assert tfr.read_view(10).nbytes == 0


def test_block_of_finds_member_headers_on_tape():
    entries = [(f"f{i}", "file", os.urandom(i * 997)) for i in range(20)]
    raw = make_tar(entries)
    dev = FakeTape([b"label", FILEMARK] + split_records(raw, 4096) + [FILEMARK])
    dev.locate(0, 2)
    tfr = TapeFileReader(dev)
    r = TarReader(tfr)
    where = {}
    for m in r:
        where[m.path] = tfr.block_of(m.header_offset)
    for name, (block, within) in where.items():
        dev.locate(0, block)
        rec = dev.read_record()
        assert (block - 2) * 4096 + within == tarfile_members(raw)[name].offset
        # restore can start reading right there
        dev.locate(0, block)
        t2 = TapeFileReader(dev, base_offset=(block - 2) * 4096, base_record=block - 2)
        t2.skip(within)
        m = TarReader(t2).next()
        assert m.path == name and rec


# --- hypothesis round trip ------------------------------------------------------------

SAFE = st.text(alphabet=st.sampled_from(list("abcXYZ019 _-.,%:()[]éèüßñ日本語テスト🎬🎞")), min_size=1, max_size=40)


@st.composite
def archives(draw):
    names = draw(st.lists(SAFE.filter(lambda s: s.strip(".") != "" and not s.endswith(" ")),
                          min_size=1, max_size=8, unique=True))
    dirs = draw(st.lists(st.sampled_from(["", "A001/", "dir with space/", "日本/深い/"]),
                         min_size=len(names), max_size=len(names)))
    files = []
    seen = set()
    for n, d in zip(names, dirs):
        p = d + n
        if p in seen:
            continue
        seen.add(p)
        files.append((p, draw(st.binary(min_size=0, max_size=5000))))
    fmt = draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT]))
    sizes = draw(st.lists(st.integers(1, 3000), min_size=1, max_size=4))
    return files, fmt, sizes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives())
def test_round_trip_through_tape_records(case):
    files, fmt, sizes = case
    raw = make_tar([(p, "file", d) for p, d in files], fmt)
    dev = FakeTape(split_records(raw, sizes) + [FILEMARK, b"next"])
    tfr = TapeFileReader(dev)
    r = TarReader(tfr)
    got = [(m.path, r.read_data(m)) for m in r]
    assert got == files
    assert r.ended_cleanly and tfr.ended_at_filemark
    assert dev.read_record() == b"next"
