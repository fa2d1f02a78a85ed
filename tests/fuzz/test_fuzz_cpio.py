"""Fuzz target: mutated CPIO archives (newc, crc, odc) fed to CpioReader and restored.

Only lto-archive's errors may come out, never another exception or a hang, and nothing is written
outside the restore folder. LTO_ARCHIVE_FUZZ_EXAMPLES sets the number of examples (200 in CI)."""

from __future__ import annotations

import io

from hypothesis import given

from lto_archive.formats.cpio_reader import CpioReader
from tests.fuzz.common import FUZZ, mutated, restore_all

MEMBERS = [   # name, mode, data, ino, nlink
    ("clips", 0o040755, b"", 1, 2),
    ("clips/a.mov", 0o100644, b"A" * 700, 2, 2),
    ("clips/hard", 0o100644, b"A" * 700, 2, 2),
    ("clips/link", 0o120777, b"a.mov", 3, 1),
    ("clips/b.wav", 0o100600, b"b" * 33, 4, 1),
    ("TRAILER!!!", 0, b"", 0, 1),
]


def _pad4(b: bytes) -> bytes:
    return b + bytes(-len(b) % 4)


def newc(magic: bytes = b"070701") -> bytes:
    out = b""
    for name, mode, data, ino, nlink in MEMBERS:
        check = sum(data) & 0xFFFFFFFF if magic == b"070702" else 0
        fields = [ino, mode, 0, 0, nlink, 1_700_000_000, len(data), 0, 0, 0, 0, len(name) + 1, check]
        head = magic + b"".join(b"%08X" % f for f in fields)
        out += _pad4(head + name.encode() + b"\0") + _pad4(data)
    return out


def odc() -> bytes:
    out = b""
    for name, mode, data, ino, nlink in MEMBERS:
        out += (b"070707" + b"%06o" % 0 + b"%06o" % ino + b"%06o" % mode + b"%06o%06o" % (0, 0) + b"%06o" % nlink
                + b"%06o" % 0 + b"%011o" % 1_700_000_000 + b"%06o" % (len(name) + 1) + b"%011o" % len(data)
                + name.encode() + b"\0" + data)
    return out


SEEDS = [newc(), newc(b"070702"), odc()]


def test_seeds_read_whole() -> None:
    for raw in SEEDS:
        r = CpioReader(io.BytesIO(raw))
        got = {m.path: (m.kind, r.read_data(m)) for m in r}
        assert got["clips/b.wav"] == ("file", b"b" * 33) and got["clips/link"][0] == "symlink"
        pair = sorted((got["clips/a.mov"], got["clips/hard"]))
        assert pair[0] == ("file", b"A" * 700) and pair[1] in (("file", b"A" * 700), ("hardlink", b""))


@FUZZ
@given(raw=mutated(SEEDS))
def test_fuzz_cpio_reader(raw: bytes) -> None:
    restore_all(CpioReader, raw)
