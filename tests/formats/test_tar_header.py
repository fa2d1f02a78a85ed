"""header_info parses a TAR header block exactly as tarfile.TarInfo.frombuf does: the same
fields, or the same exception, for good, foreign and damaged blocks (seeded)."""

from __future__ import annotations

import random
import tarfile

from lto_archive.formats.tar_header import header_info

FIELDS = ("name", "mode", "uid", "gid", "size", "mtime", "chksum", "type", "linkname", "uname", "gname",
          "devmajor", "devminor")


def outcome(parse, buf):
    try:
        ti = parse(buf)
    except Exception as exc:  # noqa: BLE001 - the exception itself is what is compared
        return type(exc), str(exc)
    return tuple(getattr(ti, f) for f in FIELDS) + (getattr(ti, "_sparse_structs", None),)


def headers(rng: random.Random):
    """Header blocks as tar writers make them: ustar (with a prefix), GNU (base-256), pax, V7 dirs."""
    for _ in range(400):
        name = "/".join("".join(rng.choice("abcXYZ019._- é") for _ in range(rng.randrange(1, 40)))
                        for _ in range(rng.randrange(1, 6)))
        info = tarfile.TarInfo(name)
        info.type = rng.choice([tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE,
                                tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
        info.size = rng.choice([0, 1, 12288, 8**11 - 1]) if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
        info.mtime = rng.choice([0, 1_700_000_000, 8**11 - 1])
        info.mode = rng.choice([0o644, 0o755, 0o4755])
        info.uid, info.gid = rng.choice([0, 1000, 8**7 + 5]), rng.choice([0, 100])
        info.uname, info.gname = rng.choice(["", "root", "ünï"]), rng.choice(["", "staff"])
        info.linkname = rng.choice(["", "target", "ziel/ä"]) if info.type in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
        fmt = rng.choice([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
        try:
            buf = info.tobuf(fmt, "utf-8", "surrogateescape")
        except ValueError:          # not storable in this format
            continue
        for i in range(0, len(buf), 512):
            yield buf[i:i + 512]


def test_header_info_matches_frombuf_on_good_blocks():
    rng = random.Random(15)
    n = 0
    for block in headers(rng):
        assert outcome(header_info, block) == outcome(lambda b: tarfile.TarInfo.frombuf(b, "utf-8", "surrogateescape"),
                                                      block)
        n += 1
    assert n > 500


def test_header_info_matches_frombuf_on_damaged_and_odd_blocks():
    rng = random.Random(16)
    ref = lambda b: tarfile.TarInfo.frombuf(b, "utf-8", "surrogateescape")  # noqa: E731
    good = list(headers(rng))
    odd = [b"", bytes(100), bytes(512), b"\xff" * 512, bytes(511) + b"\x01"]
    for block in good[:300]:
        b = bytearray(block)
        for _ in range(rng.choice([1, 1, 3])):          # flipped bytes: mostly a checksum mismatch
            b[rng.randrange(512)] = rng.randrange(256)
        odd.append(bytes(b))
        hi = bytearray(block)                            # a high-bit byte with its checksum made signed
        hi[rng.randrange(0, 100)] = 0xE9
        s = 256 + sum(((x ^ 0x80) - 0x80) for x in hi[:148] + hi[156:])
        hi[148:156] = b"%06o\0 " % (s & 0o777777) if s >= 0 else hi[148:156]
        odd.append(bytes(hi))
    for block in odd:
        assert outcome(header_info, block) == outcome(ref, block), block[:160]
    assert outcome(header_info, memoryview(good[0])) == outcome(ref, good[0])


def test_header_info_matches_frombuf_on_odd_number_fields():
    ref = lambda b: tarfile.TarInfo.frombuf(b, "utf-8", "surrogateescape")  # noqa: E731
    base = bytearray(tarfile.TarInfo("a").tobuf(tarfile.USTAR_FORMAT))
    for field in (b"\x1c644\0\0\0\0", b" 0o17\0\0\0", b"1_0\0\0\0\0\0", b"+7\0\0\0\0\0\0", b"12 34\0\0\0",
                  b"\x80\0\0\0\0\0\x01\x00", b"\xff\xff\xff\xff\xff\xff\xff\xfe", b"0000644 ", b"9\0\0\0\0\0\0\0",
                  b"\0" * 8, b" " * 8, b"\xe9\0\0\0\0\0\0\0"):
        for at in (100, 108, 329):              # mode, uid, devmajor
            b = bytearray(base)
            b[at:at + 8] = field
            b[148:156] = b" " * 8
            b[148:156] = b"%06o\0 " % sum(b)
            assert outcome(header_info, bytes(b)) == outcome(ref, bytes(b)), (at, field)
