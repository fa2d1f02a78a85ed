"""Files of 8 GiB and more: the ustar size field tops out at 8 GiB - 1, so pax carries the size."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import xxhash

from lto_archive.formats.tar_reader import TarReader, parse_pax_records
from lto_archive.formats.tar_writer import TarWriter
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import NullTape
from tests.conftest import require_tool
from tests.tape_helpers import run

GiB = 1024**3
USTAR_MAX = 8 * GiB - 1          # 11 octal digits


class HeaderOnlyStream:
    """Stands in for a RecordStream: keeps headers, counts (but drops) file data."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.offset = 0
        self.skipped: list[tuple[int, int]] = []    # (offset, length) of data not kept

    def write(self, data) -> None:
        self.buf += bytes(data)
        self.offset += len(data)

    def copy_from(self, source, size: int, hasher=None):
        self.skipped.append((self.offset, size))
        self.offset += size
        return size, None

    def zero_fill(self, count: int) -> None:
        self.write(bytes(count))


def fake_stat(size: int, mtime_ns: int = 1_700_000_000_123_456_789) -> SimpleNamespace:
    return SimpleNamespace(st_size=size, st_mode=0o100640, st_mtime_ns=mtime_ns, st_uid=0, st_gid=0)


def header_bytes(name: str, size: int) -> tuple[bytes, int]:
    """The member's header blocks as TarWriter makes them, and its data offset."""
    stream = HeaderOnlyStream()
    placement = TarWriter(stream).add_file(name, io.BytesIO(), fake_stat(size))
    assert placement.header_offset == 0 and placement.size == size
    assert stream.skipped == [(placement.data_offset, size)]
    return bytes(stream.buf[:placement.data_offset]), placement.data_offset


@pytest.mark.parametrize("size", [USTAR_MAX, USTAR_MAX + 1, 8 * GiB + 1, 5 * 1024**4 + 7])
def test_header_carries_the_size(size: int) -> None:
    hdr, data_offset = header_bytes("card/A001C001_huge.mxf", size)
    assert len(hdr) == data_offset and data_offset % 512 == 0
    first = tarfile.TarInfo.frombuf(hdr[:512], "utf-8", "surrogateescape")
    if size > USTAR_MAX:
        assert first.type == tarfile.XHDTYPE
        pax = parse_pax_records(hdr[512:512 + first.size])
        assert pax["size"] == str(size)
        ustar = tarfile.TarInfo.frombuf(hdr[data_offset - 512:data_offset], "utf-8", "surrogateescape")
        assert ustar.type == tarfile.REGTYPE and ustar.name == "card/A001C001_huge.mxf"
    # our reader: the member is complete as soon as its header is
    reader = TarReader(io.BytesIO(hdr + bytes(4096)))
    member = reader.next()
    assert member is not None
    assert (member.path, member.kind, member.size, member.data_offset) == \
        ("card/A001C001_huge.mxf", "file", size, data_offset)
    assert member.mtime_ns == 1_700_000_000_123_456_789
    assert member.mode == 0o640


@pytest.mark.interop
def test_gnu_tar_lists_the_size_of_a_truncated_archive(tmp_path: Path) -> None:
    gnutar = require_tool("tar")
    size = 8 * GiB + 1
    hdr, _ = header_bytes("card/huge.mov", size)
    archive = tmp_path / "truncated.tar"
    archive.write_bytes(hdr + os.urandom(10 * 1024))
    proc = run([gnutar, "-tvf", str(archive)], check=False)
    out = proc.stdout.decode()
    assert "card/huge.mov" in out
    assert str(size) in out.split("card/huge.mov")[0]
    assert proc.returncode != 0          # and it says the archive is cut short
    assert b"Unexpected EOF" in proc.stderr


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as f:
        f.truncate(size)
    if os.stat(path).st_blocks * 512 > 1024**2:
        pytest.skip(f"{path.parent} does not keep sparse files sparse")
    return path


@pytest.mark.slow
def test_write_an_8_gib_file_to_the_null_tape(tmp_path: Path) -> None:
    size = 8 * GiB + 1
    src = tmp_path / "card"
    src.mkdir()
    _sparse(src / "huge.mxf", size)
    (src / "small.txt").write_bytes(b"small\n")
    tape = NullTape()
    result = write_archive([src], tape, WriteOptions(algorithms=("xxh128",), record_size=1024 * 1024))
    assert result.error is None and result.status == "ok"
    assert result.manifest.session.status == "ok"
    huge = next(f for f in result.files if f.path == "card/huge.mxf")
    assert huge.size == size and huge.status == "ok"
    assert result.manifest.session.bytes_copied == size + 6
    expected = xxhash.xxh3_128()
    zeros = bytes(64 * 1024**2)
    left = size
    while left:
        n = min(left, len(zeros))
        expected.update(memoryview(zeros)[:n])
        left -= n
    assert huge.hashes == {"xxh128": expected.hexdigest()}
    # the tape file holds the header, the data and the metadata, then a filemark
    assert tape.stats.bytes_written > size
    assert tape.stats.bytes_written % (1024 * 1024) == 0
    assert tape.stats.filemarks_written == 1
    assert tape.position().file_number == 1
