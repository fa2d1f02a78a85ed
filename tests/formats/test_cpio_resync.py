"""CPIO damage: the reader reads on to the next magic, as GNU cpio does, reports the damaged region with
its byte offset, and the members after it restore byte-exact (archives made by real GNU cpio)."""

from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path

import pytest

from lto_archive.errors import CorruptArchive
from lto_archive.formats.cpio_reader import CpioReader
from lto_archive.jobs.read import restore_tape
from lto_archive.tape import VirtualTape
from tests.conftest import require_tool
from tests.formats.foreign_tape import restore_archives

FILES = {f"f{i:02d}.bin": random.Random(i).randbytes(random.Random(50 + i).randrange(1, 3000)) for i in range(10)}


def gnu_cpio(tmp: Path, fmt: str) -> bytes:
    cpio = require_tool("cpio")
    src = tmp / "src"
    src.mkdir(exist_ok=True)
    for name, data in FILES.items():
        (src / name).write_bytes(data)
    names = "".join(f"{n}\n" for n in FILES).encode()
    return subprocess.run([cpio, "-o", "-H", fmt, "--quiet"], input=names, cwd=src, check=True,
                          capture_output=True).stdout


def _header_at(raw: bytes, name: str, fmt: str) -> int:
    return raw.index(name.encode() + b"\0") - (76 if fmt == "odc" else 110)


@pytest.mark.parametrize("how", ["zeroed", "garbled"])
@pytest.mark.parametrize("fmt", ["newc", "crc", "odc"])
def test_members_after_a_damaged_region_are_read(how: str, fmt: str, tmp_path: Path) -> None:
    raw = gnu_cpio(tmp_path, fmt)
    start, end = _header_at(raw, "f03.bin", fmt), _header_at(raw, "f06.bin", fmt)
    bad = bytearray(raw)
    bad[start:end] = bytes(end - start) if how == "zeroed" else random.Random(9).randbytes(end - start)
    r = CpioReader(io.BytesIO(bytes(bad)))
    got = {m.path: r.read_data(m) for m in r}
    assert got == {k: v for k, v in FILES.items() if k not in ("f03.bin", "f04.bin", "f05.bin")}
    [d] = r.damaged
    assert d.offset == start and d.offset + d.length == end and d.after == "f02.bin"
    with pytest.raises(CorruptArchive, match=f"1 damaged region\\(s\\) read past: at byte {start}, "):
        r.check_damage()


def test_a_restore_reads_on_past_cpio_damage_and_later_tape_files(tmp_path: Path) -> None:
    raw = gnu_cpio(tmp_path, "newc")
    at = _header_at(raw, "f04.bin", "newc")
    bad = bytearray(raw)
    bad[at:at + 6] = b"XXXXXX"
    res = restore_archives(tmp_path, [bytes(bad), raw], tmp_path / "dest", tape_files=[0])
    assert res.status == "damaged"
    assert f"1 damaged region(s) read past: at byte {at}," in str(res.errors[0])
    for name, data in FILES.items():
        assert (tmp_path / "dest" / name).exists() == (name != "f04.bin")
        if name != "f04.bin":
            assert (tmp_path / "dest" / name).read_bytes() == data
    tape = VirtualTape(tmp_path / "tape")
    res = restore_tape(tape, tmp_path / "dest2", tape_files=[1], accept_unproven=True)   # newc: no evidence
    tape.close()
    assert res.status == "ok" and all((tmp_path / "dest2" / n).read_bytes() == d for n, d in FILES.items())
