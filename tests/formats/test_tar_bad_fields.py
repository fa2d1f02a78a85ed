"""Issue 14, item 6: TAR headers whose checksum is right but whose fields are impossible (a negative
base-256 size, an absurd size, an empty name, a pax header claiming gigabytes) and an end-of-archive right
after a pax header no longer end the tape file: the reader reads on to the next valid header, as GNU tar
does, and reports the damaged region with its byte offset and the member it cost. A seeded mutation run over
every header field finds no other fatal case (a plausible but wrong size still runs into the end, as in GNU
tar)."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

import pytest

from lto_archive.errors import ArchiveError, CorruptArchive
from lto_archive.formats.tar_reader import TarReader

from ..bad_input_helpers import new_tape, run, write_raw_tape_file

FILES = [(f"reel/clip{i}.mov", bytes([65 + i]) * (700 + 300 * i)) for i in range(6)]


def archive(pax_names: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in FILES:
            ti = tarfile.TarInfo(name + ("é" if pax_names else ""))
            ti.size, ti.mtime = len(data), 1_600_000_000
            tf.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    return raw + bytes(-len(raw) % 10240)


def headers(raw: bytes) -> dict[str, int]:
    """{member name or '<pax of NAME>': header offset}"""
    out, pos = {}, 0
    while raw[pos:pos + 512] != bytes(512):
        ti = tarfile.TarInfo.frombuf(raw[pos:pos + 512], "utf-8", "surrogateescape")
        out[ti.name if ti.type != b"x" else f"<pax {len(out)}>"] = pos
        pos += 512 + -(-ti.size // 512) * 512
    return out


def set_field(raw: bytes, at: int, field: int, value: bytes) -> bytes:
    """Write `value` into the header at `at` (field offset `field`) and fix its checksum, as a damaged but
    self-consistent header would be."""
    bad = bytearray(raw)
    bad[at + field:at + field + len(value)] = value
    block = bad[at:at + 512]
    block[148:156] = b" " * 8
    bad[at + 148:at + 156] = b"%06o\0 " % sum(block)
    return bytes(bad)


def read(raw: bytes) -> tuple[dict[str, bytes], TarReader]:
    r = TarReader(io.BytesIO(raw))
    return {m.path: r.read_data(m) for m in r if m.kind == "file"}, r


NEGATIVE = b"\xff" * 12                       # base-256: -1
ABSURD = b"\x80" + b"\x00" * 3 + b"\x10" + b"\x00" * 7     # base-256: 2^60


@pytest.mark.parametrize("field,value,says", [
    (124, NEGATIVE, "impossible size (-1)"),
    (124, ABSURD, f"impossible size ({1 << 60})"),
    (0, b"\0" * 100, "empty name"),
])
def test_an_impossible_member_header_is_read_past(field: int, value: bytes, says: str) -> None:
    raw = archive()
    at = headers(raw)["reel/clip2.mov"]
    got, r = read(set_field(raw, at, field, value))
    assert got == {n: d for n, d in FILES if n != "reel/clip2.mov"}
    [d] = r.damaged
    assert d.offset == at and says in d.reason
    with pytest.raises(CorruptArchive, match=f"at byte {at}, .*{'reel/clip2.mov' if field else ''}"):
        r.check_damage()


def test_a_pax_header_claiming_gigabytes_is_read_past() -> None:
    raw = archive(pax_names=True)
    at = headers(raw)["<pax 2>"]           # the pax header of clip1é
    got, r = read(set_field(raw, at, 124, b"\x80" + b"\x00" * 7 + b"\x40\x00\x00\x00"))
    assert "reel/clip0.mové" in got and "reel/clip2.mové" in got and "reel/clip5.mové" in got
    assert r.damaged[0].offset == at and "a pax extended header claims" in r.damaged[0].reason
    with pytest.raises(CorruptArchive, match=f"damaged region\\(s\\) read past: at byte {at}"):
        r.check_damage()


def test_end_of_archive_right_after_a_pax_header_is_damage_not_a_fatal_error() -> None:
    raw = archive(pax_names=True)
    last = headers(raw)["<pax 10>"]           # the pax header of the last member; zeros from its member on
    cut = raw[:last + 1024] + bytes(len(raw) - last - 1024)
    got, r = read(cut)
    assert len(got) == 5
    assert r.damaged[0].offset == last + 1024 and "end-of-archive right after the pax header" in r.damaged[0].reason
    with pytest.raises(CorruptArchive, match="reel/clip5.mové"):
        r.check_damage()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_header_fields_never_end_the_archive(seed: int) -> None:
    """Every field of every header, set to random bytes, base-256 garbage or digits (checksum kept right):
    reading goes on to the members after it; the only error before the end is a size that is plausible but
    wrong running into the end of the archive (GNU tar stops there too)."""
    raw = archive(pax_names=True)
    offsets = list(headers(raw).values())
    rng = random.Random(seed)
    fields = [(0, 100), (100, 8), (108, 8), (116, 8), (124, 12), (136, 12), (156, 1), (157, 100), (257, 8),
              (345, 155)]
    for _ in range(300):
        at, (field, size) = rng.choice(offsets), rng.choice(fields)
        kind = rng.randrange(3)
        value = (rng.randbytes(size) if kind == 0 else bytes([0x80 | rng.randrange(128)]) + rng.randbytes(size - 1)
                 if kind == 1 else bytes(rng.choice(b"01234567 \0") for _ in range(size)))
        r = TarReader(io.BytesIO(set_field(raw, at, field, value)))
        try:
            for m in r:
                if m.kind == "file":
                    r.read_data(m)
        except ArchiveError as exc:
            assert "the archive ends inside" in exc.message, (at, field, value, exc.message)
            continue
        try:
            r.check_damage()
        except ArchiveError as exc:      # damage read past, or a member of an unknown type skipped
            assert "read past" in exc.message or "not restored" in exc.message, exc.message


def test_restore_goes_on_past_a_negative_size_to_later_members_and_tape_files(tmp_path: Path) -> None:
    raw = archive()
    at = headers(raw)["reel/clip2.mov"]
    tape = new_tape(tmp_path / "tape")
    write_raw_tape_file(tape, set_field(raw, at, 124, NEGATIVE))
    write_raw_tape_file(tape, raw)
    dest = tmp_path / "dest"
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--accept-unproven")
    out = cp.stdout + cp.stderr
    assert cp.returncode == 6 and "Traceback" not in out, out
    assert f"read past: at byte {at}" in out and "reel/clip2.mov" in out, out
    for name, data in FILES:
        assert (dest / name).read_bytes() == data      # clip2 from tape file 1, the rest from both
