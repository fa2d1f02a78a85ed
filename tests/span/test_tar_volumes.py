"""GNU tar's multi-volume archives: what `tar -cM` writes (GNU and POSIX formats), our reader joins."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from lto_archive.errors import ArchiveError
from lto_archive.formats.tar_reader import TarReader
from tests.conftest import require_tool
from tests.tape_helpers import run


def join_volumes(volumes: list[bytes]) -> dict[str, bytes]:
    """Read volumes in order, joining files continued from one volume to the next."""
    files: dict[str, bytearray] = {}
    for i, raw in enumerate(volumes):
        r = TarReader(io.BytesIO(raw), volume=True)
        for m in r:
            data = r.read_data(m) if m.kind == "file" else b""
            if m.part_offset is not None:
                assert len(files[m.path]) == m.part_offset, m.path
                files[m.path] += data
            else:
                files[m.path] = bytearray(data)
        assert r.continues == (i < len(volumes) - 1)
        assert r.ended_cleanly == (i == len(volumes) - 1)
    return {k: bytes(v) for k, v in files.items()}


@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_we_join_gnu_tar_multi_volume_archives(tmp_path: Path, fmt: str) -> None:
    require_tool("tar")
    src = tmp_path / "src"
    src.mkdir()
    want = {"src/a.txt": b"hello\n", "src/big.bin": os.urandom(300_000), "src/c.bin": os.urandom(5000)}
    for name, data in want.items():
        (tmp_path / name).write_bytes(data)
    vols = [f"v{i}" for i in range(1, 6)]
    args = ["tar", f"--format={fmt}", "-cM", "-L", "100"]
    for v in vols:
        args += ["-f", v]
    run(args + list(want), cwd=tmp_path)
    made = [tmp_path / v for v in vols if (tmp_path / v).exists()]
    assert len(made) >= 3, "the big file must span at least three volumes"
    got = join_volumes([p.read_bytes() for p in made])
    assert got == want


def test_a_volume_read_alone(tmp_path: Path) -> None:
    """Without volume mode a continued volume reads as GNU tar without -M reads it; a cut file is damage."""
    require_tool("tar")
    (tmp_path / "big.bin").write_bytes(os.urandom(200_000))
    run(["tar", "--format=posix", "-cM", "-L", "100", "-f", "v1", "-f", "v2", "-f", "v3", "big.bin"], cwd=tmp_path)
    second = TarReader(io.BytesIO((tmp_path / "v2").read_bytes()))
    first = second.next()
    assert first.path == "./GNUFileParts/big.bin.2" and first.part_offset is None
    gnu = tmp_path / "g"
    gnu.mkdir()
    run(["tar", "--format=gnu", "-cM", "-L", "100", "-f", "v1", "-f", "v2", "-f", "v3", "../big.bin"], cwd=gnu)
    alone = TarReader(io.BytesIO((gnu / "v2").read_bytes()))
    assert alone.next() is None          # the continuation is stepped over, and said
    with pytest.raises(ArchiveError, match="multi-volume continuation"):
        alone.check_damage()
    r = TarReader(io.BytesIO((gnu / "v1").read_bytes()))
    m = r.next()
    with pytest.raises(ArchiveError, match="truncated"):
        r.read_data(m)
