"""What the reader fuzz targets share: mutate an archive, read it as a restore would, and check that
only lto-archive's own errors come out and nothing is written outside the restore folder."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from hypothesis import settings
from hypothesis import strategies as st

from lto_archive.errors import LtoArchiveError
from lto_archive.restore_target import RestoreTarget

#: CI runs a modest number; LTO_ARCHIVE_FUZZ_EXAMPLES=100000 is the long run
FUZZ = settings(max_examples=int(os.environ.get("LTO_ARCHIVE_FUZZ_EXAMPLES", "200")), derandomize=True,
                deadline=None)
#: data read from one member at most (a sparse file's holes may claim far more)
DATA_CAP = 1 << 20


@st.composite
def mutated(draw: Any, seeds: list[bytes]) -> bytes:
    """One of `seeds`, with bytes flipped, a stretch zeroed or garbled, blocks dropped or repeated,
    and maybe cut short."""
    raw = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "zero", "junk", "drop", "dup", "digits"]))
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        n = draw(st.integers(1, 1100))
        if op == "flip" and raw:
            raw[at] ^= draw(st.integers(1, 255))
        elif op == "zero":
            raw[at:at + n] = bytes(len(raw[at:at + n]))
        elif op == "junk":
            raw[at:at + n] = draw(st.binary(min_size=1, max_size=64)) * (n // 64 + 1)
        elif op == "drop":
            del raw[at:at + n]
        elif op == "dup":
            raw[at:at] = raw[at:at + n]
        elif op == "digits":    # a plausible but wrong number in a header field
            raw[at:at + 11] = draw(st.sampled_from([b"77777777777", b"00000000000", b"\x80" + bytes(10),
                                                    b"\xff" * 11, b"99999999999", b"-0000000001"]))
    if draw(st.booleans()):
        del raw[draw(st.integers(0, len(raw))):]
    return bytes(raw)


def restore_all(make_reader: Callable[[Any], Any], raw: bytes) -> None:
    """Read every member of `raw` and restore it into a fresh folder; only LtoArchiveError may come out,
    and nothing may appear outside the folder."""
    with tempfile.TemporaryDirectory() as tmp:
        outside = Path(tmp)
        dest = outside / "dest"
        dest.mkdir()
        target = RestoreTarget(dest)
        try:
            reader = make_reader(io.BytesIO(raw))
            for m in reader:
                _restore(target, reader, m)
            reader.check_damage()
        except LtoArchiveError:
            pass
        finally:
            target.close()
        assert sorted(p.name for p in outside.iterdir()) == ["dest"]


def _restore(target: RestoreTarget, reader: Any, m: Any) -> None:
    try:
        if m.kind == "file":
            chunks = []
            n = 0
            for c in reader.iter_data(m, 65536):
                chunks.append(bytes(c))
                n += len(c)
                if n >= DATA_CAP:
                    break
            target.write_file(m.path, chunks, m.mode & 0o777, mtime_ns=m.mtime_ns)
        elif m.kind == "dir":
            target.make_dir(m.path)
        elif m.kind == "symlink":
            target.make_symlink(m.path, m.linkname)
        elif m.kind == "hardlink":
            target.make_hardlink(m.path, m.linkname)
    except LtoArchiveError:
        pass
