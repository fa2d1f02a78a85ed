"""quick_header gives the fields tarfile.TarInfo.frombuf gives, or None (then header_info parses the block):
on good, damaged and odd blocks (seeded), and on what our own TAR writer writes (the common case it is for)."""

from __future__ import annotations

import io
import random
import tarfile

from lto_archive.formats.tar_quick import quick_header
from lto_archive.formats.tar_reader import TarReader
from tests.formats.test_tar_header import headers, outcome


def ref(b):
    return tarfile.TarInfo.frombuf(b, "utf-8", "surrogateescape")


def test_quick_header_matches_frombuf_or_declines():
    rng = random.Random(15)
    taken = n = 0
    blocks = list(headers(rng))
    for block in blocks[:300]:
        b = bytearray(block)
        b[rng.randrange(512)] = rng.randrange(256)       # damage: declined, or still what frombuf says
        blocks.append(bytes(b))
    blocks += [bytes(512), b"\xff" * 512, bytes(100)]
    for block in blocks:
        n += 1
        if quick_header(block) is not None:
            taken += 1
            assert outcome(quick_header, block) == outcome(ref, block), block[:160]
    assert n > 800 and taken > 300


def test_quick_header_declines_odd_number_fields():
    base = bytearray(tarfile.TarInfo("a").tobuf(tarfile.USTAR_FORMAT))
    for field in (b"\x1c644\0\0\0\0", b"\x80\0\0\0\0\0\x01\x00", b"\xff" * 8, b"9\0\0\0\0\0\0\0", b"\xe9" + bytes(7)):
        b = bytearray(base)
        b[100:108] = field
        b[148:156] = b" " * 8
        b[148:156] = b"%06o\0 " % sum(b)
        got = quick_header(bytes(b))
        assert got is None or outcome(quick_header, bytes(b)) == outcome(ref, bytes(b)), field


def test_quick_header_takes_what_our_writer_writes():
    """Our TAR writer writes what tarfile's PAX_FORMAT writes (tests of tar_writer): a pax 'x' header for a
    sub-second mtime, then the ustar header. Both blocks of every member take the quick path."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for i in range(20):
            info = tarfile.TarInfo(f"card/CLIP/frame.{i:07d}.dpx")
            info.size, info.mtime, info.uname = 100 + i, 1_700_000_000.25 + i, "root"
            tf.addfile(info, io.BytesIO(bytes(info.size)))
    data = buf.getvalue()
    offsets = [m.header_offset for m in TarReader(io.BytesIO(data))]
    assert len(offsets) == 20
    for off in offsets:
        pax, ustar = data[off:off + 512], data[off + 1024:off + 1536]
        assert quick_header(pax).type == b"x" and outcome(quick_header, pax) == outcome(ref, pax)
        assert outcome(quick_header, ustar) == outcome(ref, ustar) and quick_header(ustar).size == 100 + offsets.index(off)
