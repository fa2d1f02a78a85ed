"""Fuzz target: mutated TAR archives (pax, GNU, ustar, GNU sparse) fed to TarReader and restored.

Only lto-archive's errors may come out, never another exception or a hang, and nothing is written
outside the restore folder. LTO_ARCHIVE_FUZZ_EXAMPLES sets the number of examples (200 in CI)."""

from __future__ import annotations

import io
import tarfile

from hypothesis import given

from lto_archive.formats.tar_reader import TarReader
from tests.fuzz.common import FUZZ, mutated, restore_all


def _tar(fmt: int, sparse: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        d = tarfile.TarInfo("clips")
        d.type = tarfile.DIRTYPE
        tf.addfile(d)
        for name, data in (("clips/a.mov", b"A" * 700), ("clips/" + "n" * 95 + "/long.wav", b"w" * 30)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        link = tarfile.TarInfo("clips/link")
        link.type, link.linkname = tarfile.SYMTYPE, "a.mov"
        tf.addfile(link)
        hard = tarfile.TarInfo("clips/hard")
        hard.type, hard.linkname = tarfile.LNKTYPE, "clips/a.mov"
        tf.addfile(hard)
        if sparse:   # a pax 0.1 GNU sparse file: two 512-byte segments of a 5000-byte file
            sp = tarfile.TarInfo("GNUSparseFile.0/holes")
            sp.size = 1024
            sp.pax_headers = {"GNU.sparse.major": "0", "GNU.sparse.minor": "1", "GNU.sparse.name": "holes",
                              "GNU.sparse.size": "5000", "GNU.sparse.map": "100,512,3000,512"}
            tf.addfile(sp, io.BytesIO(b"s" * 1024))
    return buf.getvalue()


SEEDS = [_tar(tarfile.PAX_FORMAT, sparse=True), _tar(tarfile.GNU_FORMAT), _tar(tarfile.USTAR_FORMAT)]


def test_seeds_read_whole() -> None:
    r = TarReader(io.BytesIO(SEEDS[0]))
    got = {m.path: r.read_data(m) for m in r}
    assert got["holes"] == bytes(100) + b"s" * 512 + bytes(2388) + b"s" * 512 + bytes(1488)
    assert r.damaged == [] and r.skipped == []


@FUZZ
@given(raw=mutated(SEEDS))
def test_fuzz_tar_reader(raw: bytes) -> None:
    restore_all(TarReader, raw)
