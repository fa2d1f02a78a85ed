"""TAR damage: the reader reads on to the next valid header, as GNU tar does, reports the damaged region
with its byte offset and the members it cost, and the members after it (and later tape files) restore
byte-exact."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

import pytest

from lto_archive.errors import CorruptArchive
from lto_archive.formats.tar_reader import TarReader
from tests.formats.foreign_tape import restore_archives

FILES = {f"f{i:02d}.bin": random.Random(i).randbytes(random.Random(100 + i).randrange(0, 5000)) for i in range(12)}


def archive(fmt: int = tarfile.PAX_FORMAT) -> tuple[bytes, dict[str, int]]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data in FILES.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        offsets = {m.name: m.offset for m in tf.getmembers()}
    return raw, offsets


@pytest.mark.parametrize("how", ["zeroed", "garbled"])
@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_members_after_a_damaged_region_are_read(how: str, fmt: int) -> None:
    raw, offsets = archive(fmt)
    start, end = offsets["f04.bin"], offsets["f07.bin"]      # the headers of f04, f05, f06 are lost
    bad = bytearray(raw)
    bad[start:end] = bytes(end - start) if how == "zeroed" else random.Random(7).randbytes(end - start)
    r = TarReader(io.BytesIO(bytes(bad)))
    got = {m.path: r.read_data(m) for m in r}
    lost = {"f04.bin", "f05.bin", "f06.bin"}
    assert got == {k: v for k, v in FILES.items() if k not in lost}
    [d] = r.damaged
    assert d.offset == start and d.length == end - start and d.after == "f03.bin"
    with pytest.raises(CorruptArchive, match=f"1 damaged region\\(s\\) read past: at byte {start}, "):
        r.check_damage()


def test_damage_to_a_pax_header_names_the_member_it_cost() -> None:
    raw, offsets = archive()
    long = "n" * 120
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in ("a", long, "z"):
            ti = tarfile.TarInfo(name)
            ti.size = 600
            tf.addfile(ti, io.BytesIO(b"x" * 600))
    raw = bytearray(buf.getvalue())
    with tarfile.open(fileobj=io.BytesIO(bytes(raw))) as tf:
        at = next(m for m in tf.getmembers() if m.name == long).offset + 1024   # its ustar header, after the pax header
    raw[at + 10] ^= 0xFF
    r = TarReader(io.BytesIO(bytes(raw)))
    assert [m.path for m in r] == ["a", "z"]
    assert r.damaged[0].lost == [long] and r.damaged[0].offset == at


def test_a_restore_reads_on_past_damage_and_later_tape_files(tmp_path: Path) -> None:
    raw, offsets = archive()
    bad = bytearray(raw)
    at = offsets["f05.bin"]
    bad[at:at + 512] = random.Random(3).randbytes(512)
    dest = tmp_path / "restore"
    res = restore_archives(tmp_path, [bytes(bad), raw], dest)
    assert res.status == "damaged"
    [err] = res.errors
    assert f"tape file 0: 1 damaged region(s) read past: at byte {at}," in str(err)
    for name, data in FILES.items():        # tape file 1 restores every file over tape file 0's
        assert (dest / name).read_bytes() == data
    assert [t.tape_file for t in res.tape_files] == [0, 1] and res.tape_files[1].error is None
    # restored from tape file 0, then passed over for tape file 1's newer copies (issue 16: the newest wins)
    restored0 = {Path(p).name for p in res.tape_files[0].restored + res.tape_files[0].passed_over}
    assert restored0 == set(FILES) - {"f05.bin"}
